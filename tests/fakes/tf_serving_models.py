"""More of TensorFlow Serving for the stand-in (tf_serving_grpc.StandIn): Predict,
GetModelMetadata and HandleReloadConfigRequest, computed from the model's own files.

As TF Serving does (tensorflow_serving/servables/tensorflow/predict_impl.cc,
get_model_metadata_impl.cc, model_servers/model_service_impl.cc, tag 1.8.0 on):
- versions: a model's versions are the numeric folders under its base_path, polled (main.cc:
  file_system_poll_wait_seconds, default 1; the stand-in looks at every request), and only
  the highest is served: ServableVersionPolicy's default is "latest" with num_versions 1
  (tensorflow_serving/sources/storage_path/file_system_storage_path_source.proto: "This
  is the default policy, with the default number of versions as 1"). A version that was
  served and no longer is has state END;
- a model spec without a version means the latest version; an unknown model is NOT_FOUND
  "Servable not found for request: Latest(NAME)"; a signature it lacks is INVALID_ARGUMENT
  "Serving signature key "S" not found."; an input alias the signature lacks is
  INVALID_ARGUMENT; a tensor the graph cannot compute is the error TensorFlow names;
- GetModelMetadata needs metadata_field ["signature_def"] (else INVALID_ARGUMENT
  "Metadata field signature_def is missing") and answers the SignatureDefMap of the
  SavedModel, __saved_model_init_op included, packed in a google.protobuf.Any
  (type.googleapis.com/tensorflow.serving.SignatureDefMap);
- HandleReloadConfigRequest replaces the served list with the config's models
  (FAKE_TF_NO_RELOAD=1: a server without it, whose answer is gRPC's UNIMPLEMENTED).

Predict evaluates the saved graph (tf_graph.py: DT_FLOAT, DT_INT64 and DT_STRING tensors
of shape [-1] and [-1, N], TF1 graphs and TF2 functions) and answers each output tensor
in its own dtype and shape.
"""

from __future__ import annotations

import os
from typing import Any

import grpc
from fakelib import local
from tf_graph import Graph
from tf_ops import Val
from tf_tensors import fill, read

from checks import tf_serving_proto as pb

SIGNATURE_MAP_URL = "type.googleapis.com/tensorflow.serving.SignatureDefMap"


def methods(stand_in: Any) -> dict[str, tuple[Any, Any, Any]]:
    graphs: dict[str, Graph] = {}

    def graph_of(spec: Any, context: grpc.ServicerContext) -> Graph:
        versions = stand_in.served(spec.name)
        wanted = spec.version.value if spec.HasField("version") else max(versions, default=None)
        if wanted not in versions:
            label = (
                f"Specific({spec.name}, {wanted})"
                if spec.HasField("version")
                else f"Latest({spec.name})"
            )
            context.abort(grpc.StatusCode.NOT_FOUND, f"Servable not found for request: {label}")
        path = versions[wanted]
        if path not in graphs:
            graphs[path] = Graph(local(path))
        return graphs[path]

    def predict(request: Any, context: grpc.ServicerContext) -> Any:
        graph = graph_of(request.model_spec, context)
        signature = request.model_spec.signature_name or "serving_default"
        if signature not in graph.signatures:
            context.abort(
                grpc.StatusCode.INVALID_ARGUMENT,
                f'Serving signature key "{signature}" not found.',
            )
        names = graph.tensor_names(signature, outputs=False)
        feeds: dict[str, Val] = {}
        for entry in request.inputs:
            if entry.key not in names:
                context.abort(
                    grpc.StatusCode.INVALID_ARGUMENT,
                    f"input tensor alias not found in signature: {entry.key}",
                )
            feeds[names[entry.key].split(":")[0]] = Val(*read(entry.value))
        if len(feeds) != len(names):  # predict_impl.cc's check and words
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, "input size does not match signature")
        response = pb.message_class("PredictResponse")()
        response.model_spec.CopyFrom(request.model_spec)
        for alias, tensor_name in sorted(graph.tensor_names(signature, outputs=True).items()):
            try:
                value = graph.run(feeds, tensor_name)
            except (KeyError, ValueError, IndexError) as exc:
                context.abort(grpc.StatusCode.INVALID_ARGUMENT, str(exc))
            fill(response.outputs.add(key=alias).value, value.dtype, value.shape, value.data)
        return response

    def metadata(request: Any, context: grpc.ServicerContext) -> Any:
        if list(request.metadata_field) != ["signature_def"]:
            context.abort(
                grpc.StatusCode.INVALID_ARGUMENT, "Metadata field signature_def is missing"
            )
        graph = graph_of(request.model_spec, context)
        response = pb.message_class("GetModelMetadataResponse")()
        response.model_spec.CopyFrom(request.model_spec)
        entry = response.metadata.add(key="signature_def")
        entry.value.type_url = SIGNATURE_MAP_URL
        entry.value.value = graph.signature_map.SerializeToString()
        return response

    def reload(request: Any, context: grpc.ServicerContext) -> Any:
        stand_in.configure(
            {c.name: c.base_path for c in request.config.model_config_list.config}
        )
        response = pb.message_class("ReloadConfigResponse")()
        response.status.error_code = pb.ERROR_CODES["OK"]
        return response

    cls = pb.message_class
    table = {
        pb.PREDICT: (cls("PredictRequest"), cls("PredictResponse"), predict),
        pb.GET_MODEL_METADATA: (
            cls("GetModelMetadataRequest"),
            cls("GetModelMetadataResponse"),
            metadata,
        ),
    }
    if os.environ.get("FAKE_TF_NO_RELOAD") != "1":  # a server without it: UNIMPLEMENTED
        table[pb.HANDLE_RELOAD_CONFIG] = (
            cls("ReloadConfigRequest"),
            cls("ReloadConfigResponse"),
            reload,
        )
    return table
