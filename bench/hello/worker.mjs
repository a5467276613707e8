// The floor for bench/edge.sh: a worker that does nothing, run by the same wrangler/workerd.
export default {
  async fetch() {
    return new Response('{"ok":true}', { headers: { "content-type": "application/json" } });
  },
};
