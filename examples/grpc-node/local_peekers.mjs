// Calling Periscope's internal gRPC APIs from another language: Node with @grpc/grpc-js, loading
// the .proto files of protos/ at run time (no generated code). It peeks a device into a room
// (roomserver PerformPeek), lists the room's live local peekers (QueryLocalPeekers) and reads the
// user's profile (userapi QueryProfile).
//
//   node examples/grpc-node/local_peekers.mjs ROOMSERVER_ADDR USERAPI_ADDR ROOM USER_ID DEVICE_ID
//
// e.g. against the quickstart monolith, where every service is on monolith.grpc_listen:
//   node examples/grpc-node/local_peekers.mjs 127.0.0.1:7070 127.0.0.1:7070 "#readable:localhost:8008" \
//     @bob:localhost:8008 BOBDEVICE
// Prints one JSON object: {"peek": ..., "peekers": [...], "profile": ...}. A refused call prints its
// gRPC status and the Matrix errcode Periscope puts in the trailing metadata, and exits 1.

import path from "node:path";
import { fileURLToPath } from "node:url";
import grpc from "@grpc/grpc-js";
import protoLoader from "@grpc/proto-loader";

const PROTOS = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../protos");

function loadService(file, name) {
  const definition = protoLoader.loadSync(file, { includeDirs: [PROTOS], longs: Number, defaults: false });
  return name.split(".").reduce((o, part) => o[part], grpc.loadPackageDefinition(definition));
}

// A unary call as a promise; errors carry the status code and the Matrix errcode.
function unary(client, method, request) {
  return new Promise((resolve, reject) => {
    client[method](request, { deadline: Date.now() + 10_000 }, (error, response) => {
      if (!error) return resolve(response);
      const errcode = error.metadata?.get("matrix-errcode")?.[0];
      reject(new Error(`${method}: ${grpc.status[error.code]} ${errcode ?? ""} ${error.details}`));
    });
  });
}

const [roomserverAddr, userapiAddr, room, userId, deviceId] = process.argv.slice(2);
if (!deviceId) {
  console.error("usage: local_peekers.mjs ROOMSERVER_ADDR USERAPI_ADDR ROOM USER_ID DEVICE_ID");
  process.exit(2);
}
const Roomserver = loadService("periscope/roomserver/v1/roomserver_service.proto", "periscope.roomserver.v1.RoomserverService");
const UserApi = loadService("periscope/userapi/v1/userapi_service.proto", "periscope.userapi.v1.UserApiService");
const roomserver = new Roomserver(roomserverAddr, grpc.credentials.createInsecure());
const userapi = new UserApi(userapiAddr, grpc.credentials.createInsecure());
try {
  const peek = await unary(roomserver, "PerformPeek", { userId, deviceId, roomIdOrAlias: room });
  const { peekers } = await unary(roomserver, "QueryLocalPeekers", { roomId: peek.roomId });
  const profile = await unary(userapi, "QueryProfile", { userId });
  console.log(JSON.stringify({ peek, peekers: peekers ?? [], profile }));
} catch (e) {
  console.error(e.message);
  process.exitCode = 1;
} finally {
  roomserver.close();
  userapi.close();
}
