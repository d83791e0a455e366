from django.contrib.auth import authenticate
from django.core.management import call_command

from apps.accounts.models import User
from apps.accounts.services import ensure_superadmin
from rafiki.constants import UserType


def test_superadmin_is_created_once_and_can_log_in(db: None) -> None:
    user, created = ensure_superadmin(password="s3cret")
    assert created
    assert user.user_type == UserType.SUPERADMIN
    again, created_again = ensure_superadmin(password="other")
    assert not created_again and again.pk == user.pk
    # A second start with another password does not reset the existing account.
    assert authenticate(email="superadmin@rafiki", password="s3cret") is not None
    assert authenticate(email="superadmin@rafiki", password="other") is None


def test_command_uses_default_password_and_warns(db: None, monkeypatch, capsys) -> None:
    monkeypatch.delenv("SUPERADMIN_PASSWORD", raising=False)
    call_command("ensure_superadmin")
    assert "WARNING" in capsys.readouterr().out
    assert authenticate(email="superadmin@rafiki", password="rafiki") is not None


def test_rafiki_style_email_without_dot_is_accepted(db: None) -> None:
    user = User.objects.create_user("1b4e28ba-2fa1-11d2-883f-0016d3cca427@rafiki", "pw")
    user.full_clean()
