#!/usr/bin/env python3
"""The local OpenID Connect provider of `make run` and the tests: oidc-provider-mock (PyPI) with the demo
people of portal/sso/demo_people.json, each with a "groups" claim in their ID token.

    scripts/oidc_provider.py [--host 127.0.0.1] [--port 8010]

Its login form takes any subject (type alice, bob, dave or carol; an unknown name signs in with no
groups). `PUT /users/<sub>` with a JSON object of claims changes a person's claims, as a real
provider's admin would change their groups. Everything is kept in memory: a restart forgets changes.
"""

import argparse
import json
import os
from pathlib import Path

import oidc_provider_mock
import werkzeug.serving

PEOPLE = Path(__file__).resolve().parent.parent / "portal" / "sso" / "demo_people.json"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8010)
    args = parser.parse_args()
    os.environ["AUTHLIB_INSECURE_TRANSPORT"] = "1"  # plain HTTP on this machine only
    people = [
        oidc_provider_mock.User(sub=person["sub"], claims={k: v for k, v in person.items() if k != "sub"})
        for person in json.loads(PEOPLE.read_text())["people"]
    ]
    app = oidc_provider_mock.app(require_nonce=True, user_claims=people)
    server = werkzeug.serving.make_server(args.host, args.port, app, threaded=True)
    print(f"OpenID Connect provider on http://{args.host}:{args.port} ({len(people)} demo people)", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
