"""
The demo's pages as Django views: the Node app's teach panels quote these lines beside its own
routes, and the interop test runs them against the Node app's sessions.
"""
from django.contrib.auth import authenticate, login
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST


def home(request):
    return render(request, "home.html", {"session_key": request.session.session_key})


def set_value(request):
    key = request.GET.get("key")
    value = request.GET.get("value", "")
    if key:
        request.session[key] = value
    return render(request, "session_set.html", {"key": key, "value": value})


def get_value(request):
    key = request.GET.get("key", "")
    found = key in request.session
    value = request.session.get(key)  # None when it is not set
    return render(request, "session_get.html", {"key": key, "found": found, "value": value})


@require_POST
def delete_value(request):
    key = request.POST["key"]
    if key in request.session:
        del request.session[key]  # a missing key would raise KeyError
    return redirect(f"/session/get/?key={key}")


@require_POST
def flush(request):
    request.session.flush()
    return redirect("/session/set/")


def counter(request):
    visits = request.session.get("visits", 0) + 1
    request.session["visits"] = visits
    return render(request, "counter.html", {"visits": visits})


@require_POST
def reset(request):
    request.session.pop("visits", None)
    return redirect("counter")


def cart(request):
    flash = request.session.pop("flash", None)  # read once, then gone
    cart = request.session.get("cart", [])
    return render(request, "cart.html", {"cart": cart, "flash": flash})


@require_POST
def add(request):
    cart = request.session.get("cart", [])
    request.session["cart"] = cart + [request.POST["item"]]  # assignment: modified
    return redirect("cart")


@require_POST
def add_in_place(request):
    cart = request.session.setdefault("cart", [])
    cart.append(request.POST["item"])  # changes the stored list: Django does not notice
    request.session.modified = True  # without this line the item is silently lost
    return redirect("cart")


@require_POST
def remove(request):
    cart = list(request.session.get("cart", []))  # a copy, so the assignment is the change
    if request.POST["item"] in cart:
        cart.remove(request.POST["item"])
        request.session["cart"] = cart
    return redirect("cart")


@require_POST
def checkout(request):
    cart = request.session.pop("cart", [])
    request.session["flash"] = f"Thank you! You checked out {len(cart)} items."
    return redirect("cart")


def expiry(request):
    return render(request, "expiry.html", {
        "age": request.session.get_expiry_age(),  # seconds
        "date": request.session.get_expiry_date(),
        "browser_close": request.session.get_expire_at_browser_close(),
    })


@require_POST
def set_expiry(request):
    seconds = request.POST["seconds"]
    if seconds == "":
        request.session.set_expiry(None)  # back to SESSION_COOKIE_AGE
    elif seconds == "0":
        request.session.set_expiry(0)  # the cookie ends when the browser closes
    else:
        request.session.set_expiry(int(seconds))  # set_expiry(300): 300 s without a save
    return redirect("expiry")


def login_view(request):
    if request.method != "POST":
        return render(request, "login.html", {"next": request.GET.get("next", "/account/")})
    user = authenticate(request, username=request.POST["username"], password=request.POST["password"])
    if user is None:
        return render(request, "login.html", {"error": "Wrong username or password."}, status=400)
    login(request, user)
    return redirect(request.POST.get("next", "/account/"))


@require_POST
def logout_view(request):
    logout(request)  # request.session.flush()
    return redirect("/")


@login_required  # request.user comes from request.session["_auth_user_id"]
def account(request):
    return render(request, "account.html", {"user": request.user})
