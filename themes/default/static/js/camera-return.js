// The check page after "stop if the webcam fails" (templates/media/network_test.html,
// ?camera=failed): tries the camera every few seconds and, once it gives a
// picture, sends the client back to their waiting room (data-back).
const notice = document.querySelector("[data-camera-failed]");

async function cameraWorks() {
  try {
    const stream = await navigator.mediaDevices.getUserMedia({ video: true });
    const works = stream.getVideoTracks().some((track) => track.readyState === "live");
    stream.getTracks().forEach((track) => track.stop());
    return works;
  } catch (error) {
    return false;
  }
}

async function watch() {
  if (await cameraWorks()) {
    window.location.assign(notice.dataset.back);
    return;
  }
  setTimeout(watch, 3000);
}

if (notice) watch();
