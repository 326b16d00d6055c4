"""Reading BROKER_URL's list of nodes."""

from __future__ import annotations

import pytest

from servicekit.brokers import broker_urls, rotated


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
