"""Reading BROKER_URL's list of nodes."""

from __future__ import annotations

import pytest

from servicekit.brokers import broker_urls, node_address, rotated


def test_one_node_is_a_list_of_one():
    assert broker_urls("amqp://guest:guest@127.0.0.1:5672/") == [
        "amqp://guest:guest@127.0.0.1:5672/"
    ]


def test_nodes_are_split_on_semicolons_in_order():
    url = "amqp://u:p@a:5681/; amqp://u:p@b:5682/;amqps://u:p@c:5683/vh"
    assert broker_urls(url) == [
        "amqp://u:p@a:5681/",
        "amqp://u:p@b:5682/",
        "amqps://u:p@c:5683/vh",
    ]


@pytest.mark.parametrize(
    "url", ["", "amqp://a:1/;", "memory://", "amqp://a:1/;http://b:2/", "amqp:///vhost"]
)
def test_anything_but_amqp_urls_with_hosts_is_refused(url):
    with pytest.raises(ValueError, match="BROKER_URL"):
        broker_urls(url)


def test_rotation_puts_the_given_node_first_and_keeps_the_order():
    assert rotated(["a", "b", "c"], 1) == ["b", "c", "a"]
    assert rotated(["a", "b", "c"], 3) == ["a", "b", "c"]


def test_a_client_may_narrow_the_schemes_it_takes():
    assert broker_urls("amqps://h/", schemes=("amqp", "amqps")) == ["amqps://h/"]
    with pytest.raises(ValueError, match=r"amqp://, amqps://\)"):
        broker_urls("pyamqp://h/", schemes=("amqp", "amqps"))


def test_node_addresses_carry_the_scheme_default_port():
    assert node_address("amqp://u:p@h/") == "h:5672"
    assert node_address("amqps://u:p@h/") == "h:5671"
    assert node_address("amqp://h:5681/") == "h:5681"
