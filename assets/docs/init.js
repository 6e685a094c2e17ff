// Swagger UI over this server's own document. `validatorUrl: null`: the
// default sends the document to validator.swagger.io; nothing leaves the page.
window.ui = SwaggerUIBundle({
  url: "/api/openapi.json",
  dom_id: "#swagger-ui",
  deepLinking: true,
  validatorUrl: null,
  presets: [SwaggerUIBundle.presets.apis],
  layout: "BaseLayout",
});
