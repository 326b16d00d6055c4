import pytest
from event_samples import SAMPLE_DATA


@pytest.fixture(params=sorted(SAMPLE_DATA))
def event_type(request):
    return request.param
