"""Luhn check digits, shared by personnummer, organisation numbers and HSA-ids."""


def luhn_checksum_ok(digits: str) -> bool:
    """True if the string of digits passes the Luhn (mod 10) check used by Swedish identity numbers."""
    if not digits.isdecimal():
        return False
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char)
        if index % 2 == 1:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return total % 10 == 0


def luhn_check_digit(digits: str) -> str:
    """The digit that makes `digits + check` pass the Luhn check."""
    for candidate in "0123456789":
        if luhn_checksum_ok(digits + candidate):
            return candidate
    raise ValueError(digits)  # unreachable for digit strings
