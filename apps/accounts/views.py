"""Pages: sign in and out, and the admins' user list (create, ban)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from apps.accounts.forms import LoginForm, UserCreateForm
from apps.accounts.models import User
from apps.dashboard.access import admin_required


class LoginView(auth_views.LoginView):
    template_name = "accounts/login.html"
    authentication_form = LoginForm
    redirect_authenticated_user = True


@admin_required
def user_list(request: HttpRequest) -> HttpResponse:
    form = UserCreateForm(creator=request.user)
    if request.method == "POST":
        form = UserCreateForm(request.POST, creator=request.user)
        if form.is_valid():
            from apps.accounts.services import user_create

            try:
                created = user_create(creator=request.user, **form.cleaned_data)
            except ValidationError as exc:
                form.add_error(None, " ".join(exc.messages))
            else:
                messages.success(request, f"Created {created.email} ({created.user_type}).")
                return redirect("accounts:users")
    users = Paginator(User.objects.order_by("email"), 100).get_page(request.GET.get("page"))
    return render(request, "accounts/users.html", {"form": form, "page_obj": users})


@require_POST
@admin_required
def user_ban_view(request: HttpRequest, user_id: int) -> HttpResponse:
    target = User.objects.filter(pk=user_id).first()
    if target is None:
        raise Http404("No such user")
    from apps.accounts.services import user_ban

    if target.pk == request.user.pk:
        messages.error(request, "You cannot ban yourself.")
        return redirect("accounts:users")
    try:
        user_ban(banner=request.user, user=target)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages).capitalize() + ".")
    else:
        messages.success(request, f"Banned {target.email}: they can no longer sign in.")
    return redirect("accounts:users")
