from django.urls import path

from apps.accounts import views

app_name = "accounts"
urlpatterns = [
    path("", views.user_list, name="users"),
    path("<int:user_id>/ban", views.user_ban_view, name="ban"),
]
