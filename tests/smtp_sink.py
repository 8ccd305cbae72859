"""A real SMTP server for the tests: aiosmtpd on loopback, one file per received message.

usage: smtp_sink.py PORT OUTDIR [--defer N]

Each message lands in OUTDIR as NNNN.eml (the bytes as received) next to NNNN.json (the
envelope). With --defer N the first N messages are answered 451 (try again later), so the
tests can watch the outbox retry. Prints "ready" once listening; exits when stdin closes.
"""

import json
import os
import sys

from aiosmtpd.controller import Controller


class Sink:
    def __init__(self, outdir, defer):
        self.outdir = outdir
        self.defer = defer
        self.count = 0

    async def handle_DATA(self, server, session, envelope):
        if self.defer > 0:
            self.defer -= 1
            return "451 4.3.0 Try again later"
        self.count += 1
        base = os.path.join(self.outdir, "%04d" % self.count)
        with open(base + ".json", "w") as f:
            json.dump({"mail_from": envelope.mail_from, "rcpt_tos": envelope.rcpt_tos}, f)
        with open(base + ".tmp", "wb") as f:
            f.write(envelope.original_content or envelope.content)
        # Renamed last, so a reader never sees half a message.
        os.rename(base + ".tmp", base + ".eml")
        return "250 2.0.0 Message accepted for delivery"


def main():
    port = int(sys.argv[1])
    outdir = sys.argv[2]
    defer = int(sys.argv[sys.argv.index("--defer") + 1]) if "--defer" in sys.argv else 0
    controller = Controller(Sink(outdir, defer), hostname="127.0.0.1", port=port, decode_data=False)
    controller.start()
    print("ready", flush=True)
    try:
        sys.stdin.read()
    finally:
        controller.stop()


if __name__ == "__main__":
    main()
