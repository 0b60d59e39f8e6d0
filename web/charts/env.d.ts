// Style sheets imported for their side effect (uPlot's); esbuild bundles them into the page.
declare module '*.css';
