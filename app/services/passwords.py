"""Password hashing (argon2id) and the password policy."""
import os
from functools import lru_cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app, has_app_context

COMMON_PASSWORDS_FILE = os.path.join(os.path.dirname(os.path.dirname(__file__)), "data", "common-passwords.txt")


def _hasher() -> PasswordHasher:
    if has_app_context():
        cfg = current_app.config
        return _hasher_for(cfg.get("ARGON2_TIME_COST", 3), cfg.get("ARGON2_MEMORY_COST", 65536), cfg.get("ARGON2_PARALLELISM", 4))
    return _hasher_for(3, 65536, 4)


@lru_cache(maxsize=4)
def _hasher_for(time_cost: int, memory_cost: int, parallelism: int) -> PasswordHasher:
    # argon2-cffi's PasswordHasher uses the argon2id variant.
    return PasswordHasher(time_cost=time_cost, memory_cost=memory_cost, parallelism=parallelism)


def hash_password(password: str) -> str:
    return _hasher().hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    if not password_hash:
        # Hash anyway so that unknown accounts take as long as known ones.
        _dummy_verify(password)
        return False
    try:
        return _hasher().verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    try:
        return _hasher().check_needs_rehash(password_hash)
    except InvalidHashError:
        return True


@lru_cache(maxsize=1)
def _dummy_hash_for(params: tuple) -> str:
    return _hasher_for(*params).hash("not-a-real-password-at-all")


def _dummy_verify(password: str) -> None:
    hasher = _hasher()
    params = (hasher.time_cost, hasher.memory_cost, hasher.parallelism)
    try:
        hasher.verify(_dummy_hash_for(params), password)
    except (VerificationError, InvalidHashError):
        pass


@lru_cache(maxsize=1)
def common_passwords() -> frozenset[str]:
    with open(COMMON_PASSWORDS_FILE, encoding="utf-8") as handle:
        return frozenset(line.strip().lower() for line in handle if line.strip() and not line.startswith("#"))


def password_problem(password: str, *, email: str | None = None, name: str | None = None) -> str | None:
    """Return why a new password is not acceptable, or None. No composition rules (ASVS 2.1.9)."""
    min_len = current_app.config.get("PASSWORD_MIN_LENGTH", 12) if has_app_context() else 12
    max_len = current_app.config.get("PASSWORD_MAX_LENGTH", 128) if has_app_context() else 128
    if len(password) < min_len:
        return f"Use at least {min_len} characters."
    if len(password) > max_len:
        return f"Use at most {max_len} characters."
    lowered = password.lower()
    if lowered in common_passwords():
        return "That password is too common. Choose something less guessable, such as three or four random words."
    if email and lowered == email.lower():
        return "Do not use your email address as your password."
    if len(set(password)) < 4:
        return "That password repeats too few characters. Choose something less guessable."
    return None
