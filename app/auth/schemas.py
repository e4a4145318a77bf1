from pydantic import BaseModel, Field


class LoginRequest(BaseModel):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=256)


class RefreshRequest(BaseModel):
    refresh_token: str = Field(min_length=10, max_length=200)


class LogoutRequest(BaseModel):
    refresh_token: str | None = Field(default=None, max_length=200)


class UserOut(BaseModel):
    id: int
    username: str
    police_number: str | None
    name: str
    role: str
    unit_id: int
    unit_name: str
    must_change_password: bool
    language: str


class TokenPair(BaseModel):
    access_token: str
    refresh_token: str
    token_type: str = "bearer"  # noqa: S105 - the OAuth2 token type, not a secret
    expires_in: int
    user: UserOut


class PasswordChange(BaseModel):
    current_password: str = Field(min_length=1, max_length=256)
    # Length and variety are checked in the service, which answers with a specific code.
    new_password: str = Field(min_length=1, max_length=128)


class ProfileUpdate(BaseModel):
    language: str | None = Field(default=None, pattern=r"^(zh-CN|en)$")
