"""The shapes routes answer (pydirectus.core.plans.Shape): what each accepts and refuses."""

from __future__ import annotations

from typing import Any

import pytest

from pydirectus.core import plans
from pydirectus.core.plans import Call, unwrap
from pydirectus.errors import ServerError

CALL = Call("GET", ("users", "me"))

#: shape -> (data it accepts, data it refuses)
TABLE: dict[str, tuple[plans.Shape, list[Any], list[Any]]] = {
    "OBJECT": (plans.OBJECT, [{}, {"id": 1}], [None, 42, "x", [], [{}], True]),
    "OBJECT_OR_NOTHING": (plans.OBJECT_OR_NOTHING, [{}, None], [42, [], "x"]),
    "OBJECTS": (plans.OBJECTS, [[], [{}, {"id": 1}]], [None, {}, [1, 2], [None], [{}, 3]]),
    "OBJECTS_OR_NOTHING": (plans.OBJECTS_OR_NOTHING, [[], [{}], None], [{}, [1], 42]),
    "ROWS": (plans.ROWS, [[], [{}], {"id": 1}], [None, 42, [None], [[]], "x"]),
    "COUNT": (plans.COUNT, [[], [{"count": 3}], [{"count": "12"}]],
              [None, {}, [1], [{"count": "many"}], [{"count": -1}], [{"count": True}],
               [{"count": 1}, {"count": 2}], [{"count": "1e3"}]]),
    "KEYS": (plans.KEYS, [[], [1, "a"]], [None, [None], [True], [1.5], [{}]]),
    "KEY": (plans.KEY, [1, "a"], [None, True, 1.5, [], {}]),
    "TEXT": (plans.TEXT, ["", "abc"], [None, 1, [], {}]),
    "NOTHING": (plans.NOTHING, [None], [42, {}, [], "", 0]),
    "ANY": (plans.ANY, [None, 42, {}, [], "x"], []),
}


@pytest.mark.parametrize("name", TABLE)
def test_each_shape_accepts_its_answers_and_refuses_the_rest(name: str) -> None:
    shape, good, bad = TABLE[name]
    for data in good:
        assert unwrap({"data": data}, CALL, shape) == data
    for data in bad:
        with pytest.raises(ServerError) as caught:
            unwrap({"data": data}, CALL, shape)
        message = str(caught.value)
        assert f"GET /users/me: expected 'data' to be {shape.description}, got" in message
        assert caught.value.status == 200 and caught.value.code is None


@pytest.mark.parametrize("name", TABLE)
def test_no_content_is_an_answer_only_where_nothing_is(name: str) -> None:
    shape = TABLE[name][0]
    if shape.empty:
        assert unwrap(None, CALL, shape) is None
    else:
        with pytest.raises(ServerError, match="got no content"):
            unwrap(None, CALL, shape)


@pytest.mark.parametrize("body", [42, "x", [], [{"data": 1}], {"items": []}])
def test_a_body_that_is_no_envelope_is_refused_whatever_the_shape(body: Any) -> None:
    for shape, _, _ in TABLE.values():
        with pytest.raises(ServerError, match="expected a JSON object with 'data'"):
            unwrap(body, CALL, shape)


def test_what_came_is_described_without_the_values() -> None:
    secret = "s3cret-token-value"
    with pytest.raises(ServerError) as caught:
        unwrap({"data": [{"token": secret}, 5]}, CALL, plans.OBJECTS)
    assert "a list holding an int ('5')" in str(caught.value)
    assert secret not in str(caught.value)
    with pytest.raises(ServerError) as listed:
        unwrap({"data": [{"token": secret}]}, CALL, plans.OBJECT)
    assert "a list of 1 objects (the first with keys ['token'])" in str(listed.value)
    assert secret not in str(listed.value)
