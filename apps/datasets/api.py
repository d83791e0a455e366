"""REST API for datasets: `/api/datasets/` (each user sees only their own)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.api.errors import not_found
from apps.api.pagination import Pagination, paginated
from apps.datasets.models import Dataset
from apps.datasets.selectors import dataset_get, dataset_list
from apps.datasets.serializers import (
    DatasetCreateInputSerializer,
    DatasetListFilterSerializer,
    DatasetOutputSerializer,
)
from apps.datasets.services import dataset_create, dataset_delete


def get_dataset_for_user(request: Request, dataset_id: int) -> Dataset:
    dataset = dataset_get(user=request.user, dataset_id=dataset_id)
    if dataset is None:
        raise not_found(f"dataset {dataset_id}", "InvalidDatasetError")
    return dataset


class DatasetListCreateApi(APIView):
    parser_classes = [MultiPartParser, FormParser]

    @extend_schema(
        operation_id="datasets_list",
        parameters=[DatasetListFilterSerializer],
        responses=paginated(DatasetOutputSerializer),
    )
    def get(self, request: Request) -> Response:
        query = DatasetListFilterSerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        datasets = dataset_list(user=request.user, task=query.validated_data.get("task"))
        paginator = Pagination()
        page = paginator.paginate_queryset(datasets, request, view=self)
        return paginator.get_paginated_response(DatasetOutputSerializer(page, many=True).data)

    @extend_schema(
        request={"multipart/form-data": DatasetCreateInputSerializer},
        responses={201: DatasetOutputSerializer},
        description="Upload a dataset; files for the known tasks are validated first.",
    )
    def post(self, request: Request) -> Response:
        data = DatasetCreateInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        dataset = dataset_create(
            owner=request.user, name=values["name"], task=values["task"], file=values["dataset"]
        )
        return Response(DatasetOutputSerializer(dataset).data, status=status.HTTP_201_CREATED)


class DatasetDetailApi(APIView):
    @extend_schema(responses=DatasetOutputSerializer)
    def get(self, request: Request, dataset_id: int) -> Response:
        return Response(DatasetOutputSerializer(get_dataset_for_user(request, dataset_id)).data)

    @extend_schema(
        responses={204: None}, description="Delete your dataset (if no train job uses it)."
    )
    def delete(self, request: Request, dataset_id: int) -> Response:
        dataset_delete(dataset=get_dataset_for_user(request, dataset_id))
        return Response(status=status.HTTP_204_NO_CONTENT)
