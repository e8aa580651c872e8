// The room kit's script in the consultation room: its toolbar button sends
// "roomkit.ping" through the page's one socket; the answer ("roomkit.pong",
// to the sender) goes into its side-panel tab, and everyone's pings
// ("roomkit.pinged") into its overlay.
const socket = window.consultroom.socket;
const button = document.querySelector('[data-room-button="roomkit.ping"]');
const log = document.querySelector("[data-roomkit-log]");
const notice = document.querySelector("[data-roomkit-notice]");
let pongs = 0;

if (button) {
  button.addEventListener("click", () => socket.send({ type: "roomkit.ping" }));
}
socket.on("roomkit.pong", (message) => {
  pongs += 1;
  if (log) log.textContent = `Pong ${pongs} (${message.role})`;
});
socket.on("roomkit.pinged", (message) => {
  if (notice) notice.textContent = `${message.name} pinged the room`;
});
