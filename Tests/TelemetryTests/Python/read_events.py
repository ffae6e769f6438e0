"""Reads an event directory with TensorBoard's own loader and prints what it found as JSON.

Used by the Swift tests (TensorBoardInteropTests) to check that our
hand-encoded event files are what TensorBoard reads: tags, steps, values,
and text summaries recognised by the text plugin.

    python3 read_events.py DIRECTORY
"""
import json
import sys

from tensorboard.backend.event_processing.event_accumulator import EventAccumulator


def main(directory):
    # size_guidance 0 keeps every event (the default samples scalars down to 10,000).
    accumulator = EventAccumulator(directory, size_guidance={"scalars": 0, "tensors": 0})
    accumulator.Reload()
    tags = accumulator.Tags()
    scalars = {
        tag: [[event.step, event.value] for event in accumulator.Scalars(tag)]
        for tag in tags["scalars"]
    }
    texts = {
        tag: [
            [event.step, [s.decode("utf-8") for s in event.tensor_proto.string_val],
             event.tensor_proto.dtype, len(event.tensor_proto.tensor_shape.dim)]
            for event in accumulator.Tensors(tag)
        ]
        for tag in tags["tensors"]
    }
    try:
        text_plugin_tags = sorted(accumulator.PluginTagToContent("text").keys())
    except KeyError:  # no value carried the text plugin's metadata
        text_plugin_tags = []
    json.dump({"scalars": scalars, "texts": texts, "text_plugin_tags": text_plugin_tags,
               "file_version": accumulator.file_version}, sys.stdout)


if __name__ == "__main__":
    main(sys.argv[1])
