from django.urls import path

from demo import views

urlpatterns = [
    path("", views.home, name="home"),
    path("session/set/", views.set_value),
    path("session/get/", views.get_value),
    path("session/delete/", views.delete_value),
    path("session/flush/", views.flush),
    path("counter/", views.counter, name="counter"),
    path("counter/reset/", views.reset),
    path("cart/", views.cart, name="cart"),
    path("cart/add/", views.add),
    path("cart/add-inplace/", views.add_in_place),
    path("cart/remove/", views.remove),
    path("cart/checkout/", views.checkout),
    path("expiry/", views.expiry, name="expiry"),
    path("expiry/set/", views.set_expiry),
    path("login/", views.login_view, name="login"),
    path("logout/", views.logout_view),
    path("account/", views.account),
]
