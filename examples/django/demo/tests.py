"""Each view once through Django's test client: `python3 manage.py test demo`."""
from django.contrib.auth.models import User
from django.test import TestCase


class SessionViews(TestCase):
    def test_set_get_delete_flush(self):
        self.client.get("/session/set/", {"key": "colour", "value": "blue"})
        self.assertEqual(self.client.session["colour"], "blue")
        self.assertContains(self.client.get("/session/get/", {"key": "colour"}), '<output id="value">blue</output>')
        self.assertRedirects(self.client.post("/session/delete/", {"key": "colour"}), "/session/get/?key=colour")
        self.assertNotIn("colour", self.client.session)
        self.client.get("/session/set/", {"key": "colour", "value": "red"})
        key = self.client.session.session_key
        self.client.post("/session/flush/")
        self.assertEqual(self.client.cookies["sessionid"].value, "")
        self.assertFalse(self.client.session.exists(key))

    def test_counter_and_reset(self):
        self.client.get("/counter/")
        self.assertContains(self.client.get("/counter/"), '<output id="visits">2</output>')
        self.client.post("/counter/reset/")
        self.assertNotIn("visits", self.client.session)

    def test_cart(self):
        self.client.post("/cart/add/", {"item": "tea"})
        self.client.post("/cart/add-inplace/", {"item": "milk"})
        self.client.post("/cart/add/", {"item": "jam"})
        self.client.post("/cart/remove/", {"item": "jam"})
        self.assertEqual(self.client.session["cart"], ["tea", "milk"])
        self.client.post("/cart/checkout/")
        self.assertContains(self.client.get("/cart/"), "You checked out 2 items.")
        self.assertNotContains(self.client.get("/cart/"), "You checked out")

    def test_expiry(self):
        self.client.get("/session/set/", {"key": "k", "value": "v"})
        self.client.post("/expiry/set/", {"seconds": "300"})
        self.assertContains(self.client.get("/expiry/"), '<output id="age">300</output>')
        self.client.post("/expiry/set/", {"seconds": "0"})
        self.assertContains(self.client.get("/expiry/"), '<output id="browser-close">True</output>')
        self.client.post("/expiry/set/", {"seconds": ""})
        self.assertContains(self.client.get("/expiry/"), '<output id="age">1209600</output>')

    def test_login_account_logout(self):
        user = User.objects.create_user("ada", password="correct horse battery")
        self.assertRedirects(self.client.get("/account/"), "/login/?next=/account/")
        self.assertEqual(self.client.post("/login/", {"username": "ada", "password": "wrong"}).status_code, 400)
        response = self.client.post("/login/", {"username": "ada", "password": "correct horse battery"})
        self.assertRedirects(response, "/account/")
        self.assertEqual(self.client.session["_auth_user_id"], str(user.pk))
        self.assertContains(self.client.get("/account/"), '<output id="username">ada</output>')
        self.client.post("/logout/")
        self.assertNotIn("_auth_user_id", self.client.session)
