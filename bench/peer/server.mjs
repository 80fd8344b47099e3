// The peer of Quanzi's Neo4j comparison benchmark: the Neo4j GraphQL Library on GraphQL
// Yoga, with no authentication, over the graph that Quanzi's Neo4j store writes
// (community/neo4jstore): (:Member {id, handle, handleKey, ...}) and
// (:Member)-[:FOLLOWS {since}]->(:Member).
//
// Environment: NEO4J_URI (required), NEO4J_USER and NEO4J_PASSWORD (empty for no auth),
// NEO4J_DATABASE (empty for the default), PEER_PORT (default 4000), PEER_LOG_STATEMENTS
// ("true" logs every statement the library sends, with its parameters, for profiling). It
// prints "peer listening on <port>" when it serves.
import { createServer } from "node:http";
import { Neo4jGraphQL } from "@neo4j/graphql";
import { createYoga } from "graphql-yoga";
import neo4j from "neo4j-driver";

// typeDefs describe only what the benchmark reads. handleKey is the handle in lower case,
// unique and indexed: the peer finds a member by it, as Quanzi's memberByHandle does.
const typeDefs = /* GraphQL */ `
  type Member @node {
    id: ID!
    handle: String!
    handleKey: String!
    displayName: String
    bio: String
    avatarUrl: String
    joinedAt: DateTime
    followers: [Member!]! @relationship(type: "FOLLOWS", direction: IN, properties: "Follows")
    following: [Member!]! @relationship(type: "FOLLOWS", direction: OUT, properties: "Follows")
  }

  type Follows @relationshipProperties {
    since: DateTime!
  }
`;

const uri = process.env.NEO4J_URI;
if (!uri) {
  console.error("NEO4J_URI is required");
  process.exit(2);
}
const user = process.env.NEO4J_USER ?? "";
const auth = user ? neo4j.auth.basic(user, process.env.NEO4J_PASSWORD ?? "") : undefined;
const driver = neo4j.driver(uri, auth);
await driver.verifyConnectivity();
const logStatements = process.env.PEER_LOG_STATEMENTS === "true";

const database = process.env.NEO4J_DATABASE || undefined;
const schema = await new Neo4jGraphQL({ typeDefs, driver: logStatements ? loggingDriver(driver) : driver }).getSchema();
const yoga = createYoga({
  schema,
  graphqlEndpoint: "/graphql",
  graphiql: false,
  logging: "warn",
  context: () => (database ? { sessionConfig: { database } } : {}),
});

const port = Number(process.env.PEER_PORT || 4000);
const server = createServer(yoga);
server.listen(port, "127.0.0.1", () => console.log(`peer listening on ${port}`));

const stop = async () => {
  server.close();
  await driver.close();
  process.exit(0);
};
process.on("SIGTERM", stop);
process.on("SIGINT", stop);

// loggingDriver is driver with each statement run in its sessions and transactions written
// to stderr before it runs, as one JSON line in the shape of Quanzi's statement log:
// {"msg":"neo4j statement","cypher":...,"params":...}. The library runs its statements in
// managed transactions of sessions it opens on the driver it is given.
function loggingDriver(driver) {
  return forwarding(driver, { session: (config) => loggingSession(driver.session(config)) });
}

function loggingSession(session) {
  const work = (f) => (tx) => f(loggingRunner(tx));
  return forwarding(session, {
    run: logged(session),
    executeRead: (f, config) => session.executeRead(work(f), config),
    executeWrite: (f, config) => session.executeWrite(work(f), config),
    beginTransaction: (config) => loggingRunner(session.beginTransaction(config)),
  });
}

function loggingRunner(tx) {
  return forwarding(tx, { run: logged(tx) });
}

function logged(runner) {
  return (cypher, params, ...rest) => {
    process.stderr.write(`{"msg":"neo4j statement","cypher":${JSON.stringify(cypher)},"params":${encodeValue(params ?? {})}}\n`);
    return runner.run(cypher, params, ...rest);
  };
}

// forwarding is target with some of its methods replaced; the others are bound to target.
function forwarding(target, replaced) {
  return new Proxy(target, {
    get(t, prop) {
      if (Object.hasOwn(replaced, prop)) return replaced[prop];
      const v = Reflect.get(t, prop, t);
      return typeof v === "function" ? v.bind(t) : v;
    },
  });
}

// encodeValue is the JSON of a parameter value that keeps the Bolt type of its numbers:
// driver Integers are written as JSON integers, JavaScript numbers (floats in Bolt) always
// with a fraction or an exponent (50.0), and DateTimes as ISO 8601 strings.
function encodeValue(v) {
  if (v === null || v === undefined) return "null";
  if (neo4j.isInt(v) || typeof v === "bigint") return v.toString();
  if (typeof v === "number") {
    if (!Number.isFinite(v)) return "null";
    const s = JSON.stringify(v);
    return /[.eE]/.test(s) ? s : s + ".0";
  }
  if (typeof v === "string" || typeof v === "boolean") return JSON.stringify(v);
  if (Array.isArray(v)) return `[${v.map(encodeValue).join(",")}]`;
  if (neo4j.temporal.isDateTime(v)) return JSON.stringify(v.toString());
  if (typeof v === "object") {
    return `{${Object.entries(v).map(([k, x]) => `${JSON.stringify(k)}:${encodeValue(x)}`).join(",")}}`;
  }
  return JSON.stringify(String(v));
}
