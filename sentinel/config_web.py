"""``web:`` in sentinel.yaml: where ``sentinel web`` listens and how long a login lasts."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from core.durations import Duration


class WebConfig(BaseModel):
    """The web console (``sentinel web``)."""

    model_config = ConfigDict(extra="forbid")
    host: str = Field("127.0.0.1", description="Address the console listens on.")
    port: int = Field(8080, ge=0, le=65535, description="Port of the console.")
    trusted_proxy: list[str] = Field(
        default_factory=list,
        description="Addresses of a reverse proxy whose X-Forwarded-For/-Proto are believed "
        "(for the login throttle and secure cookies); empty: none.",
    )
    idle_timeout: Duration = Field(1800.0, description="A session ends after this long unused.")
    session_lifetime: Duration = Field(
        43200.0, description="A session ends this long after the login, used or not."
    )
    secure_cookies: bool = Field(
        False, description="Send the session cookie over HTTPS only (set behind HTTPS)."
    )
