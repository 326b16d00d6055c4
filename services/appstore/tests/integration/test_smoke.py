def test_register_buy_flow(api, client):
    buyer = api.user(credit=50)
    owner = api.user()
    app = api.app(owner, price=30)
    bought = client.post(f"/api/v1/apps/{app['id']}/purchase", headers=buyer["headers"])
    assert bought.status_code == 201, bought.get_json()
    assert api.balance(buyer) == 20
    assert api.balance(owner) == 30
