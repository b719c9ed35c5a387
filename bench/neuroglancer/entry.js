// neuroglancer's own default page (its main.bundle.js without the analytics tag), with the state taken
// from the URL fragment: bench/viewer_bench.py opens the same data and view in it as in the zarrlite viewer.
import "neuroglancer/unstable/util/polyfills.js";
import "neuroglancer/unstable/layer/enabled_frontend_modules.js";
import "neuroglancer/unstable/datasource/enabled_frontend_modules.js";
import "neuroglancer/unstable/kvstore/enabled_frontend_modules.js";
import { setupDefaultViewer } from "neuroglancer/unstable/ui/default_viewer_setup.js";

setupDefaultViewer();
