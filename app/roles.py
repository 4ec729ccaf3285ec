"""Who may do what, checked on the server in the function that does it, not only by hiding a button.

* A **visitor** sees and deletes only the drawings their own session saved.
* The app's **owner** sees the whole collection, downloads it and deletes anyone's drawings. The
  owner signs in with the secret `owner_key` of `.streamlit/secrets.toml` or `MNIST_OWNER_KEY` in
  the environment (compared in constant time); where an identity provider is configured
  (`[auth]` in secrets.toml, for `st.login`), the e-mail addresses listed as `owners` are owners
  once logged in. With neither configured there is no owner.
* A class's **teacher** is whoever started it: their key (`mnist_core.collection.classroom`) is kept in their
  session (or in the teacher link they keep), and checked against the database's sha256 of it on
  every wall refresh, hide, export and end.
* **Training** on the server (the Train tab): `MNIST_TRAINING` = ``everyone`` (the default),
  ``teachers`` (the owner, and whoever started a class this session), ``owner``, or ``off``.

Per session (`st.session_state`): `owner` (True once signed in), `teacher_keys` {class code: key}.
"""

from __future__ import annotations

import hmac
import os

import streamlit as st

OWNER_ENV = "MNIST_OWNER_KEY"
TRAINING_ENV = "MNIST_TRAINING"
TRAINING_POLICIES = ("everyone", "teachers", "owner", "off")
TEACHER_KEYS = "teacher_keys"


def _secret(name: str, default=None):
    """A value of `.streamlit/secrets.toml`, or `default` (also when there is no secrets file)."""
    try:
        return st.secrets.get(name, default)
    except Exception:  # no secrets.toml anywhere: Streamlit raises on the first access
        return default


def owner_key() -> str | None:
    """The owner's secret, from the environment or secrets.toml; None when none is configured."""
    key = os.environ.get(OWNER_ENV) or _secret("owner_key")
    return str(key) if key else None


def login_configured() -> bool:
    """Whether `st.login` can be offered: an `[auth]` section and a list of `owners` in secrets."""
    return bool(_secret("auth")) and bool(_secret("owners"))


def sign_in(key: str) -> bool:
    """Become the owner for this session if `key` is the owner's secret (a widget's callback)."""
    expected = owner_key()
    ok = bool(expected) and isinstance(key, str) and hmac.compare_digest(key.encode(), expected.encode())
    st.session_state["owner"] = ok
    return ok


def sign_out() -> None:
    st.session_state["owner"] = False


def is_owner() -> bool:
    """This session is the app's owner: signed in with the secret, or logged in as a listed owner."""
    if st.session_state.get("owner") and owner_key():
        return True
    if login_configured():
        try:
            user = st.user
            return bool(user.is_logged_in) and user.get("email") in list(_secret("owners") or [])
        except Exception:  # st.user unavailable (no identity provider reachable): not an owner
            return False
    return False


def teacher_keys() -> dict[str, str]:
    """{class code: teacher key} of the classes this session started or opened with a teacher link."""
    return st.session_state.setdefault(TEACHER_KEYS, {})


def training_policy() -> str:
    """`MNIST_TRAINING`, checked: one of TRAINING_POLICIES (an unknown value counts as "off")."""
    value = (os.environ.get(TRAINING_ENV) or "everyone").strip().lower()
    return value if value in TRAINING_POLICIES else "off"


def may_train() -> tuple[bool, str | None]:
    """(True, None), or (False, one line saying why this session may not train on the server)."""
    policy = training_policy()
    if policy == "everyone" or is_owner():
        return True, None
    if policy == "teachers" and teacher_keys():
        return True, None
    why = {"teachers": "Training on this server is for its owner and for teachers who started a class.",
           "owner": "Training on this server is for its owner.",
           "off": "Training is turned off on this server."}
    return False, why[policy]
