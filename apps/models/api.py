"""REST API for model templates: `/api/models/`."""

from __future__ import annotations

from django.http import FileResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.api.errors import ApiError, not_found
from apps.api.pagination import Pagination, paginated
from apps.api.permissions import CanManageModels, HasRole
from apps.models.models import ModelTemplate
from apps.models.selectors import model_template_get_visible, model_template_list_available
from apps.models.serializers import (
    ModelTemplateCreateInputSerializer,
    ModelTemplateListFilterSerializer,
    ModelTemplateOutputSerializer,
)
from apps.models.services import model_template_create, model_template_delete


def get_model_for_user(
    request: Request, model_id: int, *, owner_only: bool = False
) -> ModelTemplate:
    """The model if visible to the user (404 otherwise); with ``owner_only``, a visible model of
    someone else answers 403."""
    model = model_template_get_visible(user=request.user, model_id=model_id)
    if model is None:
        raise not_found(f"model {model_id}", "InvalidModelError")
    if owner_only and model.owner_id != request.user.pk:
        raise ApiError(
            "only the model's owner may do this", error="ForbiddenError", status_code=403
        )
    return model


def model_file_response(model: ModelTemplate) -> FileResponse:
    return FileResponse(
        model.model_file.open("rb"),
        as_attachment=True,
        filename=f"{model.model_class}.py",
        content_type="application/octet-stream",
    )


class ModelListCreateApi(APIView):
    parser_classes = [MultiPartParser, FormParser]

    def get_permissions(self) -> list:
        return [CanManageModels()] if self.request.method == "POST" else [HasRole()]

    @extend_schema(
        parameters=[ModelTemplateListFilterSerializer],
        operation_id="models_list",
        responses=paginated(ModelTemplateOutputSerializer),
        description="Your models and everyone's PUBLIC models, newest first.",
    )
    def get(self, request: Request) -> Response:
        query = ModelTemplateListFilterSerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        models = model_template_list_available(
            user=request.user, task=query.validated_data.get("task")
        )
        paginator = Pagination()
        page = paginator.paginate_queryset(models, request, view=self)
        return paginator.get_paginated_response(ModelTemplateOutputSerializer(page, many=True).data)

    @extend_schema(
        request={"multipart/form-data": ModelTemplateCreateInputSerializer},
        responses={201: ModelTemplateOutputSerializer},
        description="Upload a model file (admins and model developers). The file is imported "
        "in a sandbox to check the class and its knob config.",
    )
    def post(self, request: Request) -> Response:
        data = ModelTemplateCreateInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        model = model_template_create(
            owner=request.user,
            name=values["name"],
            task=values["task"],
            file=values["model_file"],
            class_name=values["model_class"],
            dependencies=values["dependencies"],
            access_right=values["access_right"],
            docker_image=values["docker_image"],
        )
        return Response(ModelTemplateOutputSerializer(model).data, status=status.HTTP_201_CREATED)


class ModelDetailApi(APIView):
    @extend_schema(responses=ModelTemplateOutputSerializer)
    def get(self, request: Request, model_id: int) -> Response:
        return Response(ModelTemplateOutputSerializer(get_model_for_user(request, model_id)).data)

    @extend_schema(
        responses={204: None}, description="Delete your model (if no train job uses it)."
    )
    def delete(self, request: Request, model_id: int) -> Response:
        model_template_delete(template=get_model_for_user(request, model_id, owner_only=True))
        return Response(status=status.HTTP_204_NO_CONTENT)


class ModelFileApi(APIView):
    @extend_schema(
        responses={(200, "application/octet-stream"): OpenApiResponse(OpenApiTypes.BINARY)},
        description="Download your model's file.",
    )
    def get(self, request: Request, model_id: int) -> FileResponse:
        return model_file_response(get_model_for_user(request, model_id, owner_only=True))
