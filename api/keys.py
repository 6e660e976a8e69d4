"""Making, checking and revoking API keys.

A key is 40 random letters and digits (about 238 bits). The stored form is its SHA-256 hex
digest, compared in constant time. A slow password hash (PBKDF2) would protect a guessable
password; a key this long cannot be guessed, so a slow hash would only add a fraction of a
second to every API request for no gain in safety.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import string
from dataclasses import dataclass
from datetime import timedelta

from django.contrib.auth.models import AbstractBaseUser
from django.utils import timezone

from api.models import PREFIX_LENGTH, ApiKey

KEY_ALPHABET = string.ascii_letters + string.digits
KEY_LENGTH = 40
# Every request authenticates; writing `last_used` on each would turn reads into writes.
LAST_USED_RESOLUTION = timedelta(minutes=1)


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


@dataclass(frozen=True, slots=True)
class IssuedKey:
    """A new key's row and its secret, which exists nowhere else once this is dropped."""

    api_key: ApiKey
    secret: str


def _new_secret() -> str:
    while True:
        secret = "".join(secrets.choice(KEY_ALPHABET) for _ in range(KEY_LENGTH))
        if not ApiKey.objects.filter(prefix=secret[:PREFIX_LENGTH]).exists():
            return secret


def assign_secret(api_key: ApiKey) -> str:
    """Give an unsaved key a fresh secret (stored as prefix and digest); returns the secret."""
    secret = _new_secret()
    api_key.prefix = secret[:PREFIX_LENGTH]
    api_key.hashed_key = _digest(secret)
    return secret


def issue_key(user: AbstractBaseUser, name: str) -> IssuedKey:
    """Create a key for `user`; the returned secret is the only copy there will ever be."""
    api_key = ApiKey(name=name, user=user)
    secret = assign_secret(api_key)
    api_key.save()
    return IssuedKey(api_key, secret)


def user_for_key(secret: str) -> AbstractBaseUser | None:
    """The active owner of an unrevoked key matching `secret`, else None."""
    if len(secret) != KEY_LENGTH:
        return None
    digest = _digest(secret)
    candidates = ApiKey.objects.select_related("user").filter(
        prefix=secret[:PREFIX_LENGTH], revoked_at__isnull=True
    )
    for api_key in candidates:
        if hmac.compare_digest(api_key.hashed_key, digest) and api_key.user.is_active:
            now = timezone.now()
            if api_key.last_used is None or now - api_key.last_used > LAST_USED_RESOLUTION:
                ApiKey.objects.filter(pk=api_key.pk).update(last_used=now)
            return api_key.user
    return None


def revoke_keys(prefix: str) -> list[ApiKey]:
    """Revoke the unrevoked keys starting with `prefix`; returns those revoked."""
    keys = list(ApiKey.objects.filter(prefix=prefix[:PREFIX_LENGTH], revoked_at__isnull=True))
    now = timezone.now()
    for api_key in keys:
        api_key.revoked_at = now
    ApiKey.objects.bulk_update(keys, ["revoked_at"])
    return keys
