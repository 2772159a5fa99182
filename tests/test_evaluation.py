"""The shared test-scale parser: the command line's text, numbers and lists from ensemble files."""
import pytest

from lip_toolkit.core.errors import LipToolkitError
from lip_toolkit.evaluation import parse_scales


@pytest.mark.parametrize('given, expected', [
    (None, None), ('0.75,1,1.25', (0.75, 1.0, 1.25)), ('1, 1.5,', (1.0, 1.5)), (1, (1.0,)), ([0.5, 2], (0.5, 2.0)),
])
def test_parse_scales_reads_text_numbers_and_lists(given, expected):
    assert parse_scales(given) == expected


@pytest.mark.parametrize('given, message', [
    ('x', "--scales must be numbers, e.g. 0.75,1,1.25; got"), ([None], '--scales must be numbers'),
    ('0,1', '--scales must be positive numbers'), ([], '--scales must be positive numbers'),
    ('-1', '--scales must be positive numbers'),
])
def test_parse_scales_refuses_bad_values_in_one_line(given, message):
    with pytest.raises(LipToolkitError, match=message):
        parse_scales(given)


def test_parse_scales_quotes_the_value_as_given():
    with pytest.raises(LipToolkitError, match=r"got '0,1'$"):
        parse_scales('0,1')


def test_parse_scales_names_where_the_value_came_from(tmp_path):
    with pytest.raises(LipToolkitError) as info:
        parse_scales([0], 'member 2: scales', tmp_path / 'ensemble.py')
    assert 'member 2: scales must be positive numbers' in info.value.one_line()
    assert 'ensemble.py' in info.value.one_line()
