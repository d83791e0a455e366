from __future__ import annotations

from rest_framework import serializers

from apps.accounts.models import User
from rafiki.constants import UserType


class LoginInputSerializer(serializers.Serializer):
    email = serializers.CharField(max_length=254)
    password = serializers.CharField(max_length=1024, trim_whitespace=False)


class TokenOutputSerializer(serializers.Serializer):
    token = serializers.CharField(help_text="Send as `Authorization: Bearer <token>`; shown once.")
    expires_at = serializers.DateTimeField()
    user_id = serializers.IntegerField()
    user_type = serializers.ChoiceField(choices=UserType.values())


class UserOutputSerializer(serializers.ModelSerializer):
    user_type = serializers.ChoiceField(choices=UserType.values())

    class Meta:
        model = User
        fields = ["id", "email", "user_type", "banned_date", "date_joined"]
        read_only_fields = fields


class UserCreateInputSerializer(serializers.Serializer):
    email = serializers.CharField(max_length=254)
    password = serializers.CharField(max_length=1024, trim_whitespace=False)
    user_type = serializers.ChoiceField(choices=UserType.values())
