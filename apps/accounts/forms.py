from __future__ import annotations

from typing import ClassVar

from django import forms
from django.contrib.auth.forms import AuthenticationForm

from rafiki.constants import UserType


class LoginForm(AuthenticationForm):
    """Email + password; a banned user is refused with the same words as a wrong password."""

    error_messages: ClassVar[dict[str, str]] = {
        **AuthenticationForm.error_messages,
        "invalid_login": "Wrong email or password.",
        "inactive": "Wrong email or password.",
    }

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["username"].label = "Email"
        self.fields["username"].widget.attrs.update({"autofocus": True, "autocomplete": "email"})

    def confirm_login_allowed(self, user) -> None:
        if user.is_banned:
            raise forms.ValidationError(self.error_messages["inactive"], code="inactive")


class UserCreateForm(forms.Form):
    email = forms.CharField(
        max_length=254, help_text="Any address with an @, e.g. ana@lab or ana@rafiki."
    )
    password = forms.CharField(widget=forms.PasswordInput(render_value=True))
    user_type = forms.ChoiceField(label="Role")

    def __init__(self, *args, creator, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        roles = [UserType.MODEL_DEVELOPER, UserType.APP_DEVELOPER]
        if creator.user_type == UserType.SUPERADMIN:
            roles.append(UserType.ADMIN)
        self.fields["user_type"].choices = [(r, r.replace("_", " ").title()) for r in roles]
