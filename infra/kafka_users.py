"""Give the broker's users the passwords of this installation; used by infra/stack.sh on every start.

    .venv/bin/python infra/kafka_users.py [--bootstrap HOST:PORT] [--mechanism M] USER...

Logs in as admin (with GRID_KAFKA_ADMIN_LOGIN while admin's own password is being changed, else
GRID_KAFKA_PASSWORD_ADMIN) and sets each USER's SCRAM-SHA-512 credential to the password in GRID_KAFKA_PASSWORD_<USER>,
so a new user or a rotated password (infra/stack.sh kafka-passwd USER) takes effect. --mechanism PLAIN is for the one
start that adds the users to storage formatted before the broker required them (see kafka_upgrade in stack.sh).
"""

from __future__ import annotations

import argparse
import os
import sys

from kafka.admin import KafkaAdminClient, ScramMechanism, UserScramCredentialUpsertion

from dispatch.settings import KafkaMechanism, sasl_options


def password_of(user: str) -> str:
    """The installation's password for `user`, from the environment (infra/lib.sh reads .stack/secrets.env)."""
    name = f"GRID_KAFKA_PASSWORD_{user.upper()}"
    password = os.environ.get(name, "")
    if not password:
        raise SystemExit(f"{name} is not set")
    return password


def set_passwords(bootstrap: str, users: list[str], mechanism: KafkaMechanism = "SCRAM-SHA-512") -> None:
    """Upsert each user's SCRAM credential from its password; fail naming the users the broker refused."""
    login = os.environ.get("GRID_KAFKA_ADMIN_LOGIN") or password_of("admin")
    admin = KafkaAdminClient(
        bootstrap_servers=bootstrap, client_id="grid-stack-users", **sasl_options("admin", login, mechanism)
    )
    try:
        wanted = [UserScramCredentialUpsertion(u, ScramMechanism.SCRAM_SHA_512, password_of(u)) for u in users]
        errors = {user: error for user, error in admin.alter_user_scram_credentials(wanted).items() if error}
    finally:
        admin.close()
    if errors:
        raise SystemExit(f"the broker refused the credentials of {errors}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bootstrap", default=os.environ.get("GRID_KAFKA_BOOTSTRAP", "127.0.0.1:29092"))
    parser.add_argument("--mechanism", default="SCRAM-SHA-512", choices=["SCRAM-SHA-512", "PLAIN"])
    parser.add_argument("users", nargs="+")
    args = parser.parse_args()
    set_passwords(args.bootstrap, args.users, args.mechanism)
    print(f"kafka users: {', '.join(args.users)} set", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
