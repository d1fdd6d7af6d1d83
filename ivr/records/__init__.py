"""Records of calls: the call log (SQLite), one row per replayed, live or SIP call."""

from ivr.records.calllog import (
    COLUMNS,
    DB_ENV,
    DEFAULT_DB,
    SCHEMA_VERSION,
    SOURCES,
    CallLog,
    CallRecord,
    default_db_path,
    mask_record,
    migrate,
    record_dict,
    record_from_result,
    transcript_of,
)

__all__ = [
    "COLUMNS",
    "DB_ENV",
    "DEFAULT_DB",
    "SCHEMA_VERSION",
    "SOURCES",
    "CallLog",
    "CallRecord",
    "default_db_path",
    "mask_record",
    "migrate",
    "record_dict",
    "record_from_result",
    "transcript_of",
]
