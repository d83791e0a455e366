"""Who may call what. Object visibility is not here: selectors return only what a user may
see, and anything else answers 404 so that ids do not leak."""

from __future__ import annotations

from typing import Any

from rest_framework import permissions
from rest_framework.request import Request

from rafiki.constants import UserType


def _has_role(request: Request, roles: set[str]) -> bool:
    user = request.user
    return bool(user and user.is_authenticated and not user.is_banned and user.user_type in roles)


ALL_ROLES = set(UserType.values())


class HasRole(permissions.BasePermission):
    """Any logged-in, unbanned user with a role."""

    message = "you need to log in"

    def has_permission(self, request: Request, view: Any) -> bool:
        return _has_role(request, ALL_ROLES)


class IsAdmin(permissions.BasePermission):
    message = "only admins may do this"

    def has_permission(self, request: Request, view: Any) -> bool:
        return _has_role(request, {UserType.SUPERADMIN, UserType.ADMIN})


class IsSuperAdmin(permissions.BasePermission):
    message = "only the superadmin may do this"

    def has_permission(self, request: Request, view: Any) -> bool:
        return _has_role(request, {UserType.SUPERADMIN})


class CanManageModels(permissions.BasePermission):
    """Uploading models: admins and model developers."""

    message = "only admins and model developers may upload models"

    def has_permission(self, request: Request, view: Any) -> bool:
        return _has_role(request, {UserType.SUPERADMIN, UserType.ADMIN, UserType.MODEL_DEVELOPER})
