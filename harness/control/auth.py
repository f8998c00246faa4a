"""Per-run bearer tokens: one for the team, one for the facilitator.

Both live only in `<run_dir>/tokens.json` (mode 0600, created exclusively so another user
cannot pre-create it) and in the server's memory: never in the journal, logs or reprs.

    no token                    -> 401 (WWW-Authenticate: Bearer)
    a token that is neither     -> 401
    team token, facilitator URL -> 403
"""

from __future__ import annotations

import enum
import hmac
import json
import os
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated

from fastapi import Depends, HTTPException, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

TOKENS_FILE = "tokens.json"


class Access(enum.Enum):
    TEAM = "team"
    FACILITATOR = "facilitator"


@dataclass(frozen=True)
class Tokens:
    team: str = field(repr=False)
    facilitator: str = field(repr=False)

    @classmethod
    def generate(cls) -> Tokens:
        return cls(team=secrets.token_urlsafe(32), facilitator=secrets.token_urlsafe(32))

    @classmethod
    def read(cls, run_dir: Path) -> Tokens:
        record = json.loads((run_dir / TOKENS_FILE).read_text(encoding="utf-8"))
        return cls(team=str(record[Access.TEAM.value]), facilitator=str(record[Access.FACILITATOR.value]))

    def write(self, run_dir: Path) -> Path:
        """Create `<run_dir>/tokens.json`, readable by its owner only; refuses to overwrite."""
        path = run_dir / TOKENS_FILE
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            json.dump({Access.TEAM.value: self.team, Access.FACILITATOR.value: self.facilitator}, out)
            out.write("\n")
        return path

    def token_for(self, access: Access) -> str:
        return self.team if access is Access.TEAM else self.facilitator

    def access_for(self, presented: str) -> Access | None:
        """Which token this is, compared in constant time (both compared, always)."""
        candidate = presented.encode("utf-8")
        is_team = hmac.compare_digest(candidate, self.team.encode("utf-8"))
        is_facilitator = hmac.compare_digest(candidate, self.facilitator.encode("utf-8"))
        if is_facilitator:
            return Access.FACILITATOR
        return Access.TEAM if is_team else None


def issue_tokens(run_dir: Path) -> Tokens:
    """New tokens for a run, written into its directory."""
    tokens = Tokens.generate()
    tokens.write(run_dir)
    return tokens


# auto_error=False: we answer a missing token ourselves, with our error body; the scheme
# still appears in the OpenAPI document.
_bearer = HTTPBearer(auto_error=False, description="the team's or the facilitator's token from tokens.json")
Credentials = Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]


def require(tokens: Tokens, needed: Access) -> Callable[[HTTPAuthorizationCredentials | None], Access]:
    """A FastAPI dependency: the caller's access level, or 401/403."""

    def check(credentials: Credentials) -> Access:
        if credentials is None:
            raise HTTPException(status.HTTP_401_UNAUTHORIZED, "missing bearer token (see tokens.json in the run "
                                "directory)", headers={"WWW-Authenticate": "Bearer"})
        access = tokens.access_for(credentials.credentials)
        if access is None:
            raise HTTPException(status.HTTP_401_UNAUTHORIZED, "invalid token for this drill",
                                headers={"WWW-Authenticate": 'Bearer error="invalid_token"'})
        if needed is Access.FACILITATOR and access is not Access.FACILITATOR:
            raise HTTPException(status.HTTP_403_FORBIDDEN, "this needs the facilitator's token")
        return access

    return check
