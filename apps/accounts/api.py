"""REST API for tokens and users: `/api/tokens/`, `/api/me/`, `/api/users/` (admins)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.accounts.selectors import user_get, user_list
from apps.accounts.serializers import (
    LoginInputSerializer,
    TokenOutputSerializer,
    UserCreateInputSerializer,
    UserOutputSerializer,
)
from apps.accounts.services import user_ban, user_create
from apps.api.errors import ApiError, not_found
from apps.api.models import ApiToken
from apps.api.pagination import Pagination, paginated
from apps.api.permissions import IsAdmin
from apps.api.services import InvalidCredentialsError, token_create, token_revoke, user_authenticate
from apps.api.throttles import LoginThrottle


class TokenCreateApi(APIView):
    """Log in with email and password; answers a Bearer token (throttled per address)."""

    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes = [LoginThrottle]
    throttle_scope = "login"

    @extend_schema(request=LoginInputSerializer, responses={201: TokenOutputSerializer}, auth=[])
    def post(self, request: Request) -> Response:
        data = LoginInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            user = user_authenticate(**data.validated_data)
        except InvalidCredentialsError as exc:
            LoginThrottle.note_failure(request, self)
            raise ApiError(str(exc), error="UnauthorizedError", status_code=401) from None
        token, raw = token_create(user=user)
        out = {
            "token": raw,
            "expires_at": token.expires_at,
            "user_id": user.pk,
            "user_type": user.user_type,
        }
        return Response(TokenOutputSerializer(out).data, status=status.HTTP_201_CREATED)


class TokenCurrentApi(APIView):
    """Log out: revoke the Bearer token this request was sent with."""

    @extend_schema(request=None, responses={204: None})
    def delete(self, request: Request) -> Response:
        if not isinstance(request.auth, ApiToken):
            raise ApiError("this request was not made with a Bearer token")
        token_revoke(token=request.auth)
        return Response(status=status.HTTP_204_NO_CONTENT)


class MeApi(APIView):
    @extend_schema(responses=UserOutputSerializer)
    def get(self, request: Request) -> Response:
        return Response(UserOutputSerializer(request.user).data)


class UserListCreateApi(APIView):
    permission_classes = [IsAdmin]

    @extend_schema(operation_id="users_list", responses=paginated(UserOutputSerializer))
    def get(self, request: Request) -> Response:
        paginator = Pagination()
        page = paginator.paginate_queryset(user_list(), request, view=self)
        return paginator.get_paginated_response(UserOutputSerializer(page, many=True).data)

    @extend_schema(request=UserCreateInputSerializer, responses={201: UserOutputSerializer})
    def post(self, request: Request) -> Response:
        data = UserCreateInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        user = user_create(creator=request.user, **data.validated_data)
        return Response(UserOutputSerializer(user).data, status=status.HTTP_201_CREATED)


class UserDetailApi(APIView):
    permission_classes = [IsAdmin]

    @extend_schema(responses=UserOutputSerializer)
    def get(self, request: Request, user_id: int) -> Response:
        user = user_get(user_id=user_id)
        if user is None:
            raise not_found(f"user {user_id}", "InvalidUserError")
        return Response(UserOutputSerializer(user).data)


class UserBanApi(APIView):
    permission_classes = [IsAdmin]

    @extend_schema(request=None, responses=UserOutputSerializer)
    def post(self, request: Request, user_id: int) -> Response:
        user = user_get(user_id=user_id)
        if user is None:
            raise not_found(f"user {user_id}", "InvalidUserError")
        return Response(UserOutputSerializer(user_ban(banner=request.user, user=user)).data)
