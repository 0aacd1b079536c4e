from initaudit.report.printable import printable


def test_controls_are_escaped():
    assert printable("w\x1b[2J\nx\ry") == "w\\x1b[2J\\nx\\ry"
    assert printable("a\u202eb\u2028c\x9b") == "a\\u202eb\\u2028c\\x9b"


def test_plain_text_and_tabs():
    assert printable("layers.0.weight — ok é") == "layers.0.weight — ok é"
    assert printable("a\tb") == "a\\tb"
    assert printable("a\tb\x07", keep_tabs=True) == "a\tb\\x07"
