public import Hummingbird
public import Logging

/// Assembles the router: observability outermost (it sees the final status), then error mapping,
/// then the refusal of paths with an empty segment and the 405 of methods a route does not take, then
/// the routes.
public enum HTTPRouterBuilder {
    public static func makeRouter(
        releases: ReleaseRoutes,
        operations: OperationsRoutes,
        accessLogger: Logger,
        metrics: HTTPRequestMetrics,
        accessLog: Bool
    ) -> Router<ReleaseRequestContext> {
        let router = Router(context: ReleaseRequestContext.self, options: .autoGenerateHeadEndpoints)
        router.add(middleware: ObservabilityMiddleware(logger: accessLogger, metrics: metrics, accessLog: accessLog))
        router.add(middleware: ErrorMappingMiddleware())
        router.add(middleware: ExactPathMiddleware())
        router.add(middleware: MethodNotAllowedMiddleware(routes: ReleaseRoutes.allowedMethods + OperationsRoutes.allowedMethods))
        releases.register(on: router)
        operations.register(on: router)
        return router
    }
}
