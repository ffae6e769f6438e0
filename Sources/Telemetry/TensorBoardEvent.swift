/// The protobuf payloads of TensorBoard's `Event` records.
///
/// Field numbers are those of TensorBoard's `event.proto`, `summary.proto`,
/// `tensor.proto` and `tensor_shape.proto`; they never change (protobuf
/// compatibility rules), which is what makes hand-encoding them safe.
public enum TensorBoardEvent {
    /// The version string TensorBoard expects in a file's first event.
    public static let fileVersion = "brain.Event:2"

    /// `Event.file_version`: the first record of every event file.
    public static func fileVersion(wallTime: Double) -> [UInt8] {
        var event = ProtobufWriter()
        event.writeDouble(field: 1, wallTime)  // wall_time
        event.writeString(field: 3, fileVersion)  // file_version
        return event.bytes
    }

    /// An event with one scalar: `Summary.Value{tag, simple_value}`.
    public static func scalar(tag: String, value: Float, step: Int, wallTime: Double) -> [UInt8] {
        summaryEvent(step: step, wallTime: wallTime) { summaryValue in
            summaryValue.writeString(field: 1, tag)  // tag
            summaryValue.writeFloat(field: 2, value)  // simple_value
        }
    }

    /// An event with one text summary, rendered as markdown by TensorBoard's text plugin.
    ///
    /// The text plugin recognises a value by `metadata.plugin_data.plugin_name
    /// == "text"` and reads a scalar `DT_STRING` tensor. Its plugin content is
    /// `TextPluginData{version: 0}`, which serialises to no bytes.
    public static func text(tag: String, markdown: String, step: Int, wallTime: Double) -> [UInt8] {
        summaryEvent(step: step, wallTime: wallTime) { summaryValue in
            summaryValue.writeString(field: 1, tag)  // tag
            summaryValue.writeMessage(field: 8) { tensor in  // tensor: TensorProto
                tensor.writeInt64(field: 1, dataTypeString)  // dtype
                tensor.writeMessage(field: 2) { _ in }  // tensor_shape: scalar (no dims)
                tensor.writeString(field: 8, markdown)  // string_val
            }
            summaryValue.writeMessage(field: 9) { metadata in  // metadata: SummaryMetadata
                metadata.writeMessage(field: 1) { pluginData in  // plugin_data
                    pluginData.writeString(field: 1, "text")  // plugin_name
                }
            }
        }
    }

    /// `DataType.DT_STRING` in TensorFlow's `types.proto`.
    static let dataTypeString: Int64 = 7

    private static func summaryEvent(
        step: Int, wallTime: Double, value: (inout ProtobufWriter) -> Void
    ) -> [UInt8] {
        var event = ProtobufWriter()
        event.writeDouble(field: 1, wallTime)  // wall_time
        event.writeInt64(field: 2, Int64(step))  // step
        event.writeMessage(field: 5) { summary in  // summary
            summary.writeMessage(field: 1, value)  // value (repeated; one per event)
        }
        return event.bytes
    }
}
