"""Who may open a page. Every page view is wrapped in `member_required` (signed in, not
banned); admin pages in `admin_required`. Object-level checks live in each app's
`_get_<thing>_for_user` helper, which answers 404 for what the user may not see."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth import logout
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse

View = Callable[..., HttpResponse]


def member_required(view: View) -> View:
    """Signed-in users only; a user banned since signing in is signed out."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        user = request.user
        if not user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if user.is_banned:
            logout(request)
            return redirect_to_login(request.get_full_path())
        return view(request, *args, **kwargs)

    return wrapped


def admin_required(view: View) -> View:
    """Admins and the superadmin only (403 for other signed-in users)."""

    @member_required
    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.is_admin:
            raise PermissionDenied("Only admins can open this page.")
        return view(request, *args, **kwargs)

    return wrapped


def can_upload_models(user: Any) -> bool:
    """Rafiki's rule: admins and model developers upload models; app developers use them."""
    from rafiki.constants import UserType

    return user.user_type in (UserType.SUPERADMIN, UserType.ADMIN, UserType.MODEL_DEVELOPER)
