// The seed's "Node std" server: the http module, keep-alive off.
//
// Answers every request with exactly the 88-byte reply (headers in this order, no Date).
// Binds 127.0.0.1 on the port given as the first argument, with a listen backlog of 4096
// (Node's default is 511).
'use strict';

const http = require('http');

const port = Number(process.argv[2] || 8000);
const headers = {
  'Content-Type': 'text/plain',
  'Content-Length': '5',
  Connection: 'close',
};

const server = http.createServer((_req, res) => {
  res.sendDate = false;
  res.writeHead(200, headers);
  res.end('hello');
});
server.keepAliveTimeout = 0;

server.listen({ port, host: '127.0.0.1', backlog: 4096 }, () => {
  console.log(`node std server listening on 127.0.0.1:${port}`);
});
