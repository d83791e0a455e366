from django.contrib import admin

from apps.accounts.models import User


@admin.register(User)
class UserAdmin(admin.ModelAdmin):
    list_display = ["email", "user_type", "banned_date", "date_joined"]
    list_filter = ["user_type"]
    search_fields = ["email"]
    exclude = ["password"]
