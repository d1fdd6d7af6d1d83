#!/usr/bin/env python3
"""Kamailio in front of ivr workers: a dispatcher config for N workers and M trunk gateways.

    python tools/kamailio/config.py --listen 10.0.0.2:5060 \\
        --worker 10.0.0.3:5071 --worker 10.0.0.4:5071 --trunk 10.0.0.9:5060 --out kamailio/
    kamailio -c -f kamailio/kamailio.cfg          # check it
    kamailio -DD -E -f kamailio/kamailio.cfg -P kamailio/kamailio.pid -Y kamailio/
                                                  # run it in the foreground (-Y: runtime dir)

Two dispatcher sets, balanced round robin (algorithm 4) with failover to the next member when
one answers 5xx or does not answer within FAILOVER_MS (408):
- set 1, the trunk gateways: every INVITE that comes from a worker (`ivr campaign`, `ivr dial`
  with `--trunk sip:{number}@KAMAILIO`) goes out to one of them;
- set 2, the workers (`ivr serve --listen HOST:PORT`): every INVITE from anywhere else (the
  trunk, a caller) goes to one of them.
A worker is known by the address its SIP requests come from, which is the one it listens on:
give each a fixed `--listen HOST:PORT` (an `ivr campaign` with several worker processes uses
PORT, PORT+1, ...: list each). In-dialog requests (ACK, BYE) follow the Record-Route. Media
(RTP) goes directly between the worker and the gateway; put rtpengine in front if they cannot
reach each other.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

MODULE_DIRS = ("/usr/lib/x86_64-linux-gnu/kamailio/modules", "/usr/lib/kamailio/modules")
"""Where Debian's kamailio keeps its modules (the first that exists is used)."""

MODULES = ("tm", "tmx", "sl", "rr", "pv", "maxfwd", "textops", "siputils", "xlog", "dispatcher")

FAILOVER_MS = 2000
"""How long (ms) a dispatcher member may take to answer an INVITE at all before the next one
is tried (tm's fr_timer)."""

TRUNKS, WORKERS = 1, 2
"""The dispatcher sets."""

TEMPLATE = """#!KAMAILIO
# ivr behind Kamailio's dispatcher: written by tools/kamailio/config.py.
# Dispatcher set {trunks}: the trunk gateways; set {workers}: the ivr workers ({list_file}).
# An INVITE from a worker goes to a gateway of set {trunks}; any other INVITE (from the trunk, a
# caller) goes to a worker of set {workers}. Both round robin (algorithm 4), and on to the next
# member of the set on a 5xx, or a 408 when a member does not answer within {failover_ms} ms.
debug=2                # L_INFO: one line per INVITE routed (its set, its destination)
log_stderror=yes
children=2             # UDP receiver processes
disable_tcp=yes
auto_aliases=no
listen=udp:{listen}
alias={listen}

mpath="{modules}/"
{loads}
modparam("tm", "fr_timer", {failover_ms})         # ms without any reply: 408, next member
modparam("rr", "enable_full_lr", 1)
modparam("dispatcher", "list_file", "{list_file}")
modparam("dispatcher", "flags", 2)                # keep the rest of the set for ds_next_dst
modparam("dispatcher", "ds_ping_interval", 0)     # no OPTIONS probing: every member is up

request_route {{
    if (!mf_process_maxfwd_header("10")) {{
        sl_send_reply("483", "Too Many Hops");
        exit;
    }}
    # in a dialog (ACK, BYE, re-INVITE): along the Record-Route we put on its INVITE
    if (has_totag()) {{
        if (loose_route()) {{
            if (!t_relay()) {{
                sl_reply_error();
            }}
            exit;
        }}
        if (is_method("ACK")) {{   # the ACK of a failed INVITE: tm absorbs it
            if (t_check_trans()) {{
                t_relay();
            }}
            exit;
        }}
        sl_send_reply("404", "Not here");
        exit;
    }}
    # a CANCEL goes where its INVITE went
    if (is_method("CANCEL")) {{
        if (t_check_trans()) {{
            t_relay();
        }}
        exit;
    }}
    # a keep-alive or a health check of this proxy
    if (is_method("OPTIONS") && uri == myself) {{
        sl_send_reply("200", "OK");
        exit;
    }}
    if (!is_method("INVITE")) {{
        sl_send_reply("405", "Method Not Allowed");
        exit;
    }}
    t_check_trans();       # a retransmitted INVITE: its transaction answers it
    remove_hf("Route");    # a worker's outbound proxy setting names this proxy: done
    record_route();        # stay in the dialog, so the BYE finds its way either side
    if (ds_is_from_list("{workers}")) {{   # its source address and port is a worker's
        $var(set) = {trunks};
    }} else {{
        $var(set) = {workers};
    }}
    if (!ds_select_dst("$var(set)", "4")) {{
        sl_send_reply("503", "No destination");
        exit;
    }}
    xlog("L_INFO", "INVITE $rU from $si:$sp to set $var(set): $du (call $ci)\\n");
    t_on_failure("NEXT");
    if (!t_relay()) {{
        sl_reply_error();
    }}
    exit;
}}

# the member did not take the call: a 5xx, or 408 (no reply within fr_timer)
failure_route[NEXT] {{
    if (t_is_canceled()) {{
        exit;
    }}
    if (t_check_status("5[0-9][0-9]|408") && ds_next_dst()) {{
        xlog("L_INFO", "INVITE $rU: next destination $du (call $ci)\\n");
        t_on_failure("NEXT");
        t_relay();
    }}
}}
"""


def modules_dir() -> str:
    """The first of MODULE_DIRS that exists (the first anyway, for a machine to come)."""
    return next((d for d in MODULE_DIRS if Path(d).is_dir()), MODULE_DIRS[0])


def parse_address(text: str) -> str:
    """HOST:PORT, checked; ValueError naming it otherwise."""
    host, _, port = text.rpartition(":")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"invalid address {text!r}: give HOST:PORT")
    return f"{host}:{port}"


def write_config(folder: Path, listen: str, workers: Sequence[str], trunks: Sequence[str]) -> Path:
    """Write `folder`/kamailio.cfg and `folder`/dispatcher.list for Kamailio on `listen`
    (HOST:PORT) in front of `workers` and `trunks` (HOST:PORT each); the config's path."""
    folder.mkdir(parents=True, exist_ok=True)
    listen = parse_address(listen)
    members = [(WORKERS, parse_address(w)) for w in workers]
    members += [(TRUNKS, parse_address(t)) for t in trunks]
    list_file = folder / "dispatcher.list"
    lines = [f"{group} sip:{address}" for group, address in members]
    list_file.write_text("# set destination\n" + "\n".join(lines) + "\n", encoding="utf-8")
    config = folder / "kamailio.cfg"
    config.write_text(
        TEMPLATE.format(
            listen=listen,
            modules=modules_dir(),
            loads="\n".join(f'loadmodule "{m}.so"' for m in MODULES),
            failover_ms=FAILOVER_MS,
            list_file=list_file.resolve(),
            workers=WORKERS,
            trunks=TRUNKS,
        ),
        encoding="utf-8",
    )
    return config


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--listen", required=True, help="Kamailio's own SIP address HOST:PORT")
    parser.add_argument("--worker", action="append", default=[], help="an ivr worker HOST:PORT")
    parser.add_argument("--trunk", action="append", default=[], help="a trunk gateway HOST:PORT")
    parser.add_argument("--out", type=Path, required=True, help="folder for the config")
    args = parser.parse_args()
    try:
        config = write_config(args.out, args.listen, args.worker, args.trunk)
    except ValueError as exc:
        raise SystemExit(f"error: {exc}") from None
    print(f"wrote {config} and {config.parent / 'dispatcher.list'}")
    print(f"check: kamailio -c -f {config}")
    folder = config.parent.resolve()
    print(f"run:   kamailio -DD -E -f {config} -P {folder}/kamailio.pid -Y {folder}")


if __name__ == "__main__":
    main()
