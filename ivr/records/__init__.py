"""Records of calls: the call log (SQLite), one row per replayed, live, SIP or audited call."""

from ivr.records.calllog import (
    COLUMNS,
    DB_ENV,
    DEFAULT_DB,
    SCHEMA_VERSION,
    SOURCES,
    AuditItem,
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
    "AuditItem",
    "CallLog",
    "CallRecord",
    "default_db_path",
    "mask_record",
    "migrate",
    "record_dict",
    "record_from_result",
    "transcript_of",
]
