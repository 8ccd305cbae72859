"""A real SMTP server for the tests: aiosmtpd on loopback, one file per received message.

usage: smtp_sink.py PORT OUTDIR [--defer N] [--tls starttls|implicit]

Each message lands in OUTDIR as NNNN.eml (the bytes as received) next to NNNN.json (the
envelope, and "tls": the TLS version the message came over, or null). With --defer N the
first N messages are answered 451 (try again later), so the tests can watch the outbox retry.

With --tls the sink makes a throwaway CA (trustme), writes its certificate to OUTDIR/ca.pem
and serves a certificate for 127.0.0.1 and localhost signed by it: `starttls` offers STARTTLS
and refuses mail until the client has used it; `implicit` speaks TLS from the first byte
(SMTPS). Without --tls the server offers no STARTTLS at all.

Prints "ready" once listening; exits when stdin closes.
"""

import json
import os
import ssl
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
        tls = server.transport.get_extra_info("ssl_object")
        with open(base + ".json", "w") as f:
            json.dump(
                {
                    "mail_from": envelope.mail_from,
                    "rcpt_tos": envelope.rcpt_tos,
                    "tls": tls.version() if tls is not None else None,
                },
                f,
            )
        with open(base + ".tmp", "wb") as f:
            f.write(envelope.original_content or envelope.content)
        # Renamed last, so a reader never sees half a message.
        os.rename(base + ".tmp", base + ".eml")
        return "250 2.0.0 Message accepted for delivery"


def server_context(outdir):
    """A certificate for loopback from a new CA, whose certificate goes to OUTDIR/ca.pem."""
    import trustme

    ca = trustme.CA()
    ca.cert_pem.write_to_path(os.path.join(outdir, "ca.pem"))
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1", "localhost").configure_cert(context)
    return context


def main():
    port = int(sys.argv[1])
    outdir = sys.argv[2]
    defer = int(sys.argv[sys.argv.index("--defer") + 1]) if "--defer" in sys.argv else 0
    tls = sys.argv[sys.argv.index("--tls") + 1] if "--tls" in sys.argv else None
    options = {}
    if tls == "starttls":
        options = {"tls_context": server_context(outdir), "require_starttls": True}
    elif tls == "implicit":
        options = {"ssl_context": server_context(outdir)}
    elif tls is not None:
        sys.exit("--tls takes starttls or implicit, not %r" % tls)
    controller = Controller(
        Sink(outdir, defer), hostname="127.0.0.1", port=port, decode_data=False, **options
    )
    controller.start()
    print("ready", flush=True)
    try:
        sys.stdin.read()
    finally:
        controller.stop()


if __name__ == "__main__":
    main()
