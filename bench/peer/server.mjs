// The peer of Quanzi's Neo4j comparison benchmark: the Neo4j GraphQL Library on GraphQL
// Yoga, with no authentication, over the graph that Quanzi's Neo4j store writes
// (community/neo4jstore): (:Member {id, handle, handleKey, ...}) and
// (:Member)-[:FOLLOWS {since}]->(:Member).
//
// Environment: NEO4J_URI (required), NEO4J_USER and NEO4J_PASSWORD (empty for no auth),
// NEO4J_DATABASE (empty for the default), PEER_PORT (default 4000). It prints
// "peer listening on <port>" when it serves.
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

const database = process.env.NEO4J_DATABASE || undefined;
const schema = await new Neo4jGraphQL({ typeDefs, driver }).getSchema();
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
