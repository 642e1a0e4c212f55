"""ab's -v messages, word for word as ab.c prints them, at the verbosity that shows each."""

from __future__ import annotations

from trioload.output.verbose import request_info, response_log

REQUEST = b"POST /x HTTP/1.0\r\nHost: h\r\nContent-Length: 4\r\n\r\nbody"
HEAD_200 = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n"
HEAD_503 = b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 5\r\n\r\n"


def test_request_info_shows_the_head_from_verbosity_2() -> None:
    assert request_info("POST", REQUEST, 1) == ""
    assert request_info("POST", REQUEST, 2) == (
        "INFO: POST header == \n---\n"
        "POST /x HTTP/1.0\r\nHost: h\r\nContent-Length: 4\r\n\r\n"
        "\n---\n"
    )


def test_response_log_shows_the_head_from_verbosity_2() -> None:
    assert response_log(HEAD_200, 200, 0) == ""
    assert response_log(HEAD_200, 200, 1) == ""
    assert response_log(HEAD_200, 200, 2) == (
        "LOG: header received:\nHTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n\n"
    )


def test_response_log_warns_of_non_2xx_from_verbosity_2() -> None:
    head_text = HEAD_503.decode()
    warning = "WARNING: Response code not 2xx (503)\n"
    assert response_log(HEAD_503, 503, 2) == f"LOG: header received:\n{head_text}\n{warning}"
    # At 3 a non-2xx still gets the warning, not the "Response code =" line.
    assert response_log(HEAD_503, 503, 3) == f"LOG: header received:\n{head_text}\n{warning}"


def test_response_log_shows_2xx_codes_from_verbosity_3() -> None:
    assert "Response code" not in response_log(HEAD_200, 200, 2)
    assert response_log(HEAD_200, 204, 3).endswith("\nLOG: Response code = 204\n")
    assert response_log(HEAD_200, 200, 4).endswith("\nLOG: Response code = 200\n")


def test_response_log_passes_any_byte_through() -> None:
    head = b"HTTP/1.1 200 OK\r\nServer: caf\xe9\r\n\r\n"
    assert "Server: caf\u00e9\r\n" in response_log(head, 200, 2)
