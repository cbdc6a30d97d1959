"""A pull's events, as Docker streams them, summed up into layers and bytes (no engine needed)."""

from networks.engine.images import PullTally

# As the local cluster's engine streamed them for 192.168.250.1:5000/tutorial/wordpress:4.4 (shortened).
EVENTS = [
    {"status": "Pulling from tutorial/wordpress", "id": "4.4"},
    {"status": "Already exists", "progressDetail": {}, "id": "5b3bb5d0b5e1"},
    {"status": "Pulling fs layer", "progressDetail": {}, "id": "9c1f8e1c2d3a"},
    {"status": "Downloading", "progressDetail": {"current": 1048576, "total": 25165824}, "id": "9c1f8e1c2d3a"},
    {"status": "Downloading", "progressDetail": {"current": 12582912, "total": 25165824}, "id": "9c1f8e1c2d3a"},
    {"status": "Verifying Checksum", "progressDetail": {}, "id": "9c1f8e1c2d3a"},
    {"status": "Download complete", "progressDetail": {}, "id": "9c1f8e1c2d3a"},
    {"status": "Extracting", "progressDetail": {"current": 65536, "total": 25165824}, "id": "9c1f8e1c2d3a"},
    {"status": "Pull complete", "progressDetail": {}, "id": "9c1f8e1c2d3a"},
    {"status": "Digest: sha256:0123"},
    {"status": "Status: Downloaded newer image for 192.168.250.1:5000/tutorial/wordpress:4.4"},
]


def summaries(events):
    tally = PullTally(image="192.168.250.1:5000/tutorial/wordpress:4.4")
    seen = []
    for event in events:
        tally.add(event)
        seen.append(tally.summary())
    return tally, seen


def test_layers_and_bytes_grow_as_the_events_come():
    tally, seen = summaries(EVENTS)
    assert [s["layers_total"] for s in seen] == [0, 1, 2, 2, 2, 2, 2, 2, 2, 2, 2]
    assert [s["bytes_done"] for s in seen][2:6] == [0, 1048576, 12582912, 25165824]
    assert seen[-1] == {
        "image": "192.168.250.1:5000/tutorial/wordpress:4.4",
        "layers_total": 2,
        "layers_done": 2,
        "bytes_total": 25165824,  # a layer that already exists has no bytes to fetch
        "bytes_done": 25165824,
    }
    assert tally.error == ""


def test_the_tag_line_is_not_a_layer_and_an_error_is_kept():
    tally, _ = summaries([EVENTS[0], {"error": "manifest unknown", "errorDetail": {"message": "manifest unknown"}}])
    assert tally.layers == {} and tally.error == "manifest unknown"
    assert PullTally(image="busybox").tag == "latest"
    assert PullTally(image="192.168.250.1:5000/team/tools").tag == "latest"
    assert PullTally(image="192.168.250.1:5000/team/tools:1.2").tag == "1.2"
