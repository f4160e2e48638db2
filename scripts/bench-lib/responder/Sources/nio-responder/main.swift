// A metrics responder built on SwiftNIO's HTTP/1 pipeline, as the listener in vpn-init could
// have been: one event loop thread (NIO's least), GET /metrics answered with a body the size of
// a node's exposition, every connection closed after its response. Prints `listening` once bound.
#if canImport(Glibc)
import Glibc
#endif
import NIOCore
import NIOHTTP1
import NIOPosix

let port = Int(CommandLine.arguments.dropFirst().first ?? "") ?? 9587
// About what a node with two peers and a transport serves.
let body = (1...40).map { "vpn_sample_metric_\($0){interface=\"wg0\",peer=\"b\"} \($0 * 1000)\n" }.joined()

final class Responder: ChannelInboundHandler, Sendable {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard case .end = unwrapInboundIn(data) else { return }
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: "text/plain; version=0.0.4; charset=utf-8")
        headers.add(name: "Content-Length", value: "\(body.utf8.count)")
        headers.add(name: "Connection", value: "close")
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: .ok, headers: headers))), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(string: body)))), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in context.close(promise: nil) }
    }
}

let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
let channel = try ServerBootstrap(group: group)
    .serverChannelOption(.backlog, value: 16)
    .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
    .childChannelInitializer { channel in
        channel.pipeline.configureHTTPServerPipeline().flatMap { channel.pipeline.addHandler(Responder()) }
    }
    .bind(host: "127.0.0.1", port: port).wait()
print("listening")
fflush(nil)  // stdout is a pipe: the line must go now
try channel.closeFuture.wait()
