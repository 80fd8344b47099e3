// Federation check for the Quanzi subgraph.
//
// Starts a small "orders" subgraph, composes a supergraph from it and the
// running Quanzi subgraph with IntrospectAndCompose (which reads each
// subgraph's `_service { sdl }`), serves it through an Apollo Gateway and runs
// two queries that cross subgraph boundaries:
//
//   1. Query.member (Quanzi) -> Member.orders (orders)
//   2. Query.recentOrder (orders) -> Order.buyer.handle (Quanzi, via `_entities`)
//
// Usage:
//   QUANZI_URL=http://127.0.0.1:8080/query \
//   QUANZI_MEMBER_ID=<id of an existing member> \
//   QUANZI_MEMBER_HANDLE=<that member's handle> \
//   QUANZI_TOKEN=<a bearer token the gateway forwards to Quanzi> \
//   node federation/gateway-test.mjs
//
// Prints each result and a closing line `federation: N passed, M failed`.
// Exits 0 when every check passes, 1 otherwise. Gives up after 60 seconds.

import { ApolloServer } from '@apollo/server';
import { startStandaloneServer } from '@apollo/server/standalone';
import {
  ApolloServerPluginInlineTraceDisabled,
  ApolloServerPluginUsageReportingDisabled,
} from '@apollo/server/plugin/disabled';
import { buildSubgraphSchema } from '@apollo/subgraph';
import { ApolloGateway, IntrospectAndCompose, RemoteGraphQLDataSource } from '@apollo/gateway';
import { parse } from 'graphql';

const OVERALL_TIMEOUT_MS = 60_000;
const REQUEST_TIMEOUT_MS = 15_000;
const SHUTDOWN_TIMEOUT_MS = 5_000;

// ---------------------------------------------------------------------------
// The "orders" subgraph
// ---------------------------------------------------------------------------

const ordersTypeDefs = parse(/* GraphQL */ `
  extend schema
    @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key", "@shareable"])

  type Query {
    recentOrder(memberId: ID!): Order
  }

  type Member @key(fields: "id") {
    id: ID!
    orders: [Order!]!
  }

  type Order {
    id: ID!
    total: Float!
    buyer: Member!
  }
`);

// Deterministic orders for a member: always two, ids `${id}-o1` and `${id}-o2`,
// totals derived from the id so the same member always gets the same numbers.
function ordersFor(memberId) {
  let sum = 0;
  for (const ch of String(memberId)) sum = (sum + ch.codePointAt(0)) % 1000;
  const base = sum % 100;
  return [
    { id: `${memberId}-o1`, total: Math.round((base + 19.9) * 100) / 100, memberId },
    { id: `${memberId}-o2`, total: Math.round((base + 5.25) * 100) / 100, memberId },
  ];
}

const ordersResolvers = {
  Query: {
    recentOrder: (_parent, { memberId }) => ordersFor(memberId)[0],
  },
  Member: {
    __resolveReference: (reference) => ({ id: reference.id }),
    orders: (member) => ordersFor(member.id),
  },
  Order: {
    // A reference only: the gateway fetches the rest of the Member from Quanzi.
    buyer: (order) => ({ __typename: 'Member', id: order.memberId }),
  },
};

// ---------------------------------------------------------------------------
// Checks
// ---------------------------------------------------------------------------

const MEMBER_WITH_ORDERS = /* GraphQL */ `
  query MemberWithOrders($id: ID!) {
    member(id: $id) {
      id
      handle
      orders {
        id
        total
      }
    }
  }
`;

const RECENT_ORDER_WITH_BUYER = /* GraphQL */ `
  query RecentOrderWithBuyer($id: ID!) {
    recentOrder(memberId: $id) {
      id
      buyer {
        id
        handle
        displayName
      }
    }
  }
`;

function checks(memberId, handle) {
  return [
    {
      name: 'member -> orders (Quanzi to orders)',
      query: MEMBER_WITH_ORDERS,
      variables: { id: memberId },
      verify(data) {
        const problems = [];
        const member = data?.member;
        if (!member) return ['data.member is null'];
        if (member.id !== memberId) problems.push(`member.id is ${JSON.stringify(member.id)}, want ${JSON.stringify(memberId)}`);
        if (member.handle !== handle) problems.push(`member.handle is ${JSON.stringify(member.handle)}, want ${JSON.stringify(handle)}`);
        if (!Array.isArray(member.orders) || member.orders.length !== 2) {
          problems.push(`member.orders has ${Array.isArray(member.orders) ? member.orders.length : 'no'} entries, want 2`);
        } else {
          const want = ordersFor(memberId);
          member.orders.forEach((order, i) => {
            if (order.id !== want[i].id) problems.push(`orders[${i}].id is ${JSON.stringify(order.id)}, want ${JSON.stringify(want[i].id)}`);
            if (order.total !== want[i].total) problems.push(`orders[${i}].total is ${order.total}, want ${want[i].total}`);
          });
        }
        return problems;
      },
    },
    {
      name: 'recentOrder -> buyer (orders to Quanzi via _entities)',
      query: RECENT_ORDER_WITH_BUYER,
      variables: { id: memberId },
      verify(data) {
        const problems = [];
        const order = data?.recentOrder;
        if (!order) return ['data.recentOrder is null'];
        if (order.id !== `${memberId}-o1`) problems.push(`recentOrder.id is ${JSON.stringify(order.id)}, want ${JSON.stringify(`${memberId}-o1`)}`);
        const buyer = order.buyer;
        if (!buyer) return [...problems, 'recentOrder.buyer is null'];
        if (buyer.id !== memberId) problems.push(`buyer.id is ${JSON.stringify(buyer.id)}, want ${JSON.stringify(memberId)}`);
        if (buyer.handle !== handle) problems.push(`buyer.handle is ${JSON.stringify(buyer.handle)}, want ${JSON.stringify(handle)}`);
        if (typeof buyer.displayName !== 'string') problems.push(`buyer.displayName is ${JSON.stringify(buyer.displayName)}, want a string`);
        return problems;
      },
    },
  ];
}

async function postGraphQL(url, query, variables) {
  const headers = { 'content-type': 'application/json', accept: 'application/json' };
  if (process.env.QUANZI_TOKEN) headers.authorization = `Bearer ${process.env.QUANZI_TOKEN}`;
  const response = await fetch(url, {
    method: 'POST',
    headers,
    body: JSON.stringify({ query, variables }),
    signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
  });
  const text = await response.text();
  let body;
  try {
    body = JSON.parse(text);
  } catch {
    throw new Error(`HTTP ${response.status}: response is not JSON: ${text.slice(0, 500)}`);
  }
  return { status: response.status, body };
}

// ---------------------------------------------------------------------------
// Main
// ---------------------------------------------------------------------------

const servers = []; // started servers, stopped in reverse order on the way out
let passed = 0;
let failed = 0;
let finished = false;

function summary() {
  console.log(`federation: ${passed} passed, ${failed} failed`);
}

async function stopAll() {
  const stopping = servers.reverse().map((server) => server.stop().catch((err) => {
    console.error(`error while stopping a server: ${err?.message ?? err}`);
  }));
  await Promise.race([
    Promise.all(stopping),
    new Promise((resolve) => setTimeout(resolve, SHUTDOWN_TIMEOUT_MS).unref()),
  ]);
}

async function main() {
  const quanziUrl = process.env.QUANZI_URL;
  const memberId = process.env.QUANZI_MEMBER_ID;
  const handle = process.env.QUANZI_MEMBER_HANDLE;
  const all = checks(memberId ?? '', handle ?? '');

  const missing = ['QUANZI_URL', 'QUANZI_MEMBER_ID', 'QUANZI_MEMBER_HANDLE'].filter((name) => !process.env[name]);
  if (missing.length > 0) {
    console.error(`missing environment: ${missing.join(', ')}`);
    console.error('usage: QUANZI_URL=http://127.0.0.1:PORT/query QUANZI_MEMBER_ID=ID QUANZI_MEMBER_HANDLE=HANDLE node federation/gateway-test.mjs');
    failed = all.length;
    return 1;
  }

  let gatewayUrl;
  try {
    // The orders subgraph.
    const orders = new ApolloServer({
      schema: buildSubgraphSchema({ typeDefs: ordersTypeDefs, resolvers: ordersResolvers }),
      plugins: [ApolloServerPluginInlineTraceDisabled()],
    });
    const { url: ordersBase } = await startStandaloneServer(orders, { listen: { host: '127.0.0.1', port: 0 } });
    servers.push(orders);
    const ordersUrl = new URL('/graphql', ordersBase).toString();
    console.log(`orders subgraph: ${ordersUrl}`);
    console.log(`quanzi subgraph: ${quanziUrl}`);

    // The gateway, composing both subgraphs from their `_service { sdl }`.
    const gateway = new ApolloGateway({
      supergraphSdl: new IntrospectAndCompose({
        subgraphs: [
          { name: 'quanzi', url: quanziUrl },
          { name: 'orders', url: ordersUrl },
        ],
      }),
      // Node's own fetch talks straight to the subgraphs, so proxy settings
      // in the environment never reroute these local calls.
      // The client's Authorization header goes on to the subgraphs, as a gateway in
      // front of Quanzi does: Quanzi decides what the caller may read.
      buildService: ({ url }) => new RemoteGraphQLDataSource({
        url,
        fetcher: (input, init) => fetch(input, { ...init, signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) }),
        willSendRequest({ request, context }) {
          if (context?.authorization) request.http.headers.set('authorization', context.authorization);
        },
      }),
    });
    const gatewayServer = new ApolloServer({
      gateway,
      plugins: [ApolloServerPluginUsageReportingDisabled()],
    });
    ({ url: gatewayUrl } = await startStandaloneServer(gatewayServer, {
      listen: { host: '127.0.0.1', port: 0 },
      context: async ({ req }) => ({ authorization: req.headers.authorization }),
    }));
    servers.push(gatewayServer);
    console.log(`gateway: ${gatewayUrl}`);
  } catch (err) {
    console.error(`FAIL setup: could not compose or start the gateway: ${err?.stack ?? err}`);
    failed = all.length;
    return 1;
  }

  for (const check of all) {
    console.log(`\n--- ${check.name}`);
    let problems;
    try {
      const { status, body } = await postGraphQL(gatewayUrl, check.query, check.variables);
      console.log(JSON.stringify(body, null, 2));
      problems = [];
      if (status !== 200) problems.push(`HTTP status ${status}`);
      if (body.errors?.length) {
        for (const error of body.errors) problems.push(`GraphQL error: ${JSON.stringify(error)}`);
      }
      // The gateway reports nulls it had to propagate (e.g. a subgraph gave
      // null for a non-null field) here rather than in `errors`.
      for (const error of body.extensions?.valueCompletion ?? []) {
        problems.push(`gateway value completion: ${JSON.stringify(error)}`);
      }
      problems.push(...check.verify(body.data));
    } catch (err) {
      problems = [`request failed: ${err?.message ?? err}`];
    }
    if (problems.length === 0) {
      passed++;
      console.log(`PASS ${check.name}`);
    } else {
      failed++;
      console.log(`FAIL ${check.name}`);
      for (const problem of problems) console.log(`  ${problem}`);
    }
  }
  return failed === 0 ? 0 : 1;
}

const overallTimer = setTimeout(() => {
  if (finished) return;
  finished = true;
  console.error(`FAIL: gave up after ${OVERALL_TIMEOUT_MS / 1000} s`);
  failed = 2 - passed; // every check that did not pass in time
  summary();
  process.exit(1);
}, OVERALL_TIMEOUT_MS);

let code = 1;
try {
  code = await main();
} catch (err) {
  console.error(`FAIL: ${err?.stack ?? err}`);
  failed = 2 - passed;
  code = 1;
}
await stopAll();
if (!finished) {
  finished = true;
  clearTimeout(overallTimer);
  summary();
  process.exit(code);
}
