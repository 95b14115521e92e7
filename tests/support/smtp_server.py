"""A real SMTP server for the tests (aiosmtpd 1.4.6), on 127.0.0.1 and a free port.

Usage (the Rust handle tests/integration/support/smtp.rs runs it with the test venv's python):

    smtp_server.py --maildir DIR --certs DIR [--security plain|starttls|tls]
                   [--user NAME --password PW]
                   [--reply-mail CODES] [--reply-rcpt CODES] [--reply-data CODES]
                   [--refuse-rcpt ADDRESSES]

Once listening it prints one line on stdout and flushes it:

    READY port=<port> ca=<path of the CA certificate, PEM>

then one line per event (connection, AUTH result, each scripted reply, each stored message) for
the test's transcript. It runs until killed.

--security   plain: no TLS; starttls: STARTTLS offered and required before MAIL/AUTH;
             tls: TLS from the first byte (implicit TLS, "port 465" style).
--user/--password
             AUTH PLAIN and LOGIN are offered (after TLS, or at once in plain mode) and required
             before MAIL. A wrong login is answered 535 5.7.8.
--maildir    every accepted message is stored byte for byte in DIR/new/ (Maildir layout: new/,
             cur/, tmp/; file names sort in arrival order), and its envelope is appended as one
             JSON line {"file", "mail_from", "rcpt_tos"} to DIR/envelopes.jsonl.
--certs      a fresh CA and a leaf certificate for localhost and 127.0.0.1 are made with trustme
             and written there: ca.pem (for the client's ca_file) and server.pem (key + chain).
             rustls refuses a CA certificate used directly as the server's certificate, hence
             the leaf.
--reply-mail / --reply-rcpt / --reply-data CODES
             scripted answers to MAIL FROM, to each RCPT TO, and to the end of DATA: a comma
             separated list used one per command in order; the last one then repeats.
             "451,250" answers 451 once, then 250 for ever; "550" always 550. 250 means "do the
             normal thing". A code may carry its own text: "452=4.5.3 Too many recipients".
--refuse-rcpt ADDRESSES
             a comma separated list of addresses answered "550 5.1.1 <address>: Recipient
             address rejected: User unknown (scripted)" at every RCPT TO, whatever the script
             says for the others (a mistyped Cc while the To exists).
"""

import argparse
import asyncio
import json
import os
import ssl
import sys
import time
import warnings
from pathlib import Path

import trustme
from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword

DEFAULT_TEXT = {
    250: "2.0.0 OK",
    421: "4.3.0 Service not available, closing channel (scripted)",
    450: "4.2.0 Mailbox unavailable (scripted)",
    451: "4.3.0 Local error in processing, try again later (scripted)",
    452: "4.3.1 Insufficient system storage (scripted)",
    550: "5.1.1 Mailbox unavailable (scripted)",
    552: "5.3.4 Message too big (scripted)",
    553: "5.1.3 Mailbox name not allowed (scripted)",
    554: "5.6.0 Transaction failed (scripted)",
}


def log(*parts):
    print(*parts, flush=True)


class Script:
    """A list of replies, one per command; the last one repeats."""

    def __init__(self, spec):
        self.replies = []
        for item in (spec or "250").split(","):
            item = item.strip()
            code, _, text = item.partition("=")
            code = int(code)
            if not 200 <= code <= 599:
                raise SystemExit(f"reply code out of range: {item!r}")
            self.replies.append((code, text or DEFAULT_TEXT.get(code, "scripted reply")))
        self.used = 0

    def next(self):
        i = min(self.used, len(self.replies) - 1)
        self.used += 1
        return self.replies[i]


class Handler:
    def __init__(self, maildir, mail, rcpt, data, refuse=()):
        self.maildir = maildir
        self.refuse = {a.lower() for a in refuse}
        self.mail = mail
        self.rcpt = rcpt
        self.data = data
        self.seq = 0
        for sub in ("new", "cur", "tmp"):
            (maildir / sub).mkdir(parents=True, exist_ok=True)

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        code, text = self.mail.next()
        if code != 250:
            log(f"MAIL {address} -> {code} {text}")
            return f"{code} {text}"
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 2.1.0 OK"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.lower() in self.refuse:
            text = f"5.1.1 <{address}>: Recipient address rejected: User unknown (scripted)"
            log(f"RCPT {address} -> 550 {text}")
            return f"550 {text}"
        code, text = self.rcpt.next()
        if code != 250:
            log(f"RCPT {address} -> {code} {text}")
            return f"{code} {text}"
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(rcpt_options)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server, session, envelope):
        code, text = self.data.next()
        if code != 250:
            log(f"DATA -> {code} {text}")
            return f"{code} {text}"
        self.seq += 1
        name = f"{self.seq:06d}.{int(time.time())}.P{os.getpid()}.tonghop-test"
        tmp = self.maildir / "tmp" / name
        # Byte for byte what the client sent (dot-unstuffed), CRLF line ends kept.
        tmp.write_bytes(envelope.original_content)
        os.replace(tmp, self.maildir / "new" / name)
        with open(self.maildir / "envelopes.jsonl", "a", encoding="utf-8") as f:
            f.write(
                json.dumps(
                    {"file": name, "mail_from": envelope.mail_from, "rcpt_tos": envelope.rcpt_tos}
                )
                + "\n"
            )
        log(f"STORED {name} from={envelope.mail_from} to={','.join(envelope.rcpt_tos)}")
        return f"250 2.0.0 Ok: queued as {name}"


def make_certs(folder):
    folder.mkdir(parents=True, exist_ok=True)
    ca = trustme.CA()
    leaf = ca.issue_cert("localhost", "127.0.0.1")
    ca_path = folder / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_path))
    leaf.private_key_and_cert_chain_pem.write_to_path(str(folder / "server.pem"))
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    leaf.configure_cert(context)
    return ca_path, context


def authenticator(user, password):
    def check(server, session, envelope, mechanism, auth_data):
        ok = (
            isinstance(auth_data, LoginPassword)
            and auth_data.login == user.encode()
            and auth_data.password == password.encode()
        )
        login = auth_data.login.decode(errors="replace") if isinstance(auth_data, LoginPassword) else "?"
        log(f"AUTH {mechanism} {login} -> {'ok' if ok else 'refused'}")
        if ok:
            return AuthResult(success=True)
        # handled=False: aiosmtpd answers 535 itself. handled=True without a reply hangs the client.
        return AuthResult(success=False, handled=False)

    return check


async def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--security", choices=["plain", "starttls", "tls"], default="plain")
    p.add_argument("--user")
    p.add_argument("--password")
    p.add_argument("--maildir", required=True, type=Path)
    p.add_argument("--certs", required=True, type=Path)
    p.add_argument("--reply-mail", default="250")
    p.add_argument("--reply-rcpt", default="250")
    p.add_argument("--reply-data", default="250")
    p.add_argument("--refuse-rcpt", default="")
    args = p.parse_args()
    if (args.user is None) != (args.password is None):
        raise SystemExit("--user and --password go together")

    ca_path, context = make_certs(args.certs)
    handler = Handler(
        args.maildir,
        Script(args.reply_mail),
        Script(args.reply_rcpt),
        Script(args.reply_data),
        [a.strip() for a in args.refuse_rcpt.split(",") if a.strip()],
    )
    smtp_kwargs = dict(hostname="localhost", ident="tonghop test SMTP (aiosmtpd)", timeout=60)
    if args.security == "starttls":
        smtp_kwargs.update(tls_context=context, require_starttls=True)
    if args.user is not None:
        smtp_kwargs.update(
            authenticator=authenticator(args.user, args.password),
            auth_required=True,
            # STARTTLS: AUTH only once encrypted. Implicit TLS is encrypted from the start, but
            # aiosmtpd only knows about STARTTLS, so the check is off there (and in plain mode).
            auth_require_tls=args.security == "starttls",
        )

    # Implicit TLS and plain mode with AUTH: aiosmtpd warns on every connection; it is intended.
    warnings.filterwarnings("ignore", message="Requiring AUTH while not requiring TLS")
    loop = asyncio.get_running_loop()

    def factory():
        log("CONNECT")
        return SMTP(handler, loop=loop, **smtp_kwargs)

    server = await loop.create_server(
        factory,
        host="127.0.0.1",
        port=0,
        ssl=context if args.security == "tls" else None,
    )
    port = server.sockets[0].getsockname()[1]
    log(f"READY port={port} ca={ca_path}")
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        sys.exit(0)
